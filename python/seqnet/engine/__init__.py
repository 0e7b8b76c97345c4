"""The engine of the Keras API: layers' base class, the model and its training loop."""

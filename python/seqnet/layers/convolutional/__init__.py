"""Convolutional layers (``seqnet.layers.convolutional``, the Keras 2.2 module path), one class per file."""
from seqnet.layers.convolutional.conv1d import Conv1D, Convolution1D
from seqnet.layers.convolutional.conv2d import Conv2D, Convolution2D
from seqnet.layers.convolutional.cropping import Cropping1D
from seqnet.layers.convolutional.cropping import Cropping2D
from seqnet.layers.convolutional.cropping import Cropping3D
from seqnet.layers.convolutional.upsampling import UpSampling1D
from seqnet.layers.convolutional.upsampling import UpSampling2D
from seqnet.layers.convolutional.upsampling import UpSampling3D
from seqnet.layers.convolutional.zero_padding import ZeroPadding1D
from seqnet.layers.convolutional.zero_padding import ZeroPadding2D
from seqnet.layers.convolutional.zero_padding import ZeroPadding3D
from seqnet.layers.convolutional.conv3d import Conv3D, Convolution3D
from seqnet.layers.convolutional.conv2d_transpose import (Conv2DTranspose, Convolution2DTranspose, Deconv2D,
                                                          Deconvolution2D)
from seqnet.layers.convolutional.conv3d_transpose import (Conv3DTranspose, Convolution3DTranspose, Deconv3D,
                                                          Deconvolution3D)
from seqnet.layers.convolutional.depthwise_conv2d import DepthwiseConv2D
from seqnet.layers.convolutional.separable_conv import (SeparableConv1D, SeparableConv2D, SeparableConvolution1D,
                                                        SeparableConvolution2D)

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D", "Cropping1D", "Cropping2D", "Cropping3D",
           "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]
__all__ += ["Conv3D", "Convolution3D"]
__all__ += ["Conv2DTranspose", "Convolution2DTranspose", "Deconv2D", "Deconvolution2D", "DepthwiseConv2D",
            "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D"]
__all__ += ["Conv3DTranspose", "Convolution3DTranspose", "Deconv3D", "Deconvolution3D"]

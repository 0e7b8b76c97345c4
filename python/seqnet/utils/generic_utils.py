"""Progbar: Keras' progress bar, without flooding logs when stdout is not a terminal."""
import os
import sys
import time

import numpy as np


class Progbar:
    """Displays progress as Keras 2 does.

    On a terminal (or in Jupyter) the bar redraws in place with carriage returns, at
    most every `interval` seconds. When stdout is a file or a pipe, only the final line of
    each bar is written (plus one line every `log_interval` seconds for long runs), so a
    log file gets one line per epoch, not thousands.

    Arguments: target (total units, or None if unknown), width of the bar, verbose
    (1: bar, 2: final line only), interval (seconds between redraws), stateful_metrics
    (names shown as given rather than averaged), unit_name for the per-unit time.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", log_interval=60.0):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.log_interval = log_interval
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic_display = ((hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
                                 or "ipykernel" in sys.modules or os.environ.get("SEQNET_DYNAMIC_PROGBAR") == "1")
        self._total_width = 0
        self._seen_so_far = 0
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._last_log = self._start

    def update(self, current, values=None, finalize=None):
        """Moves the bar to `current`; values are (name, value) pairs averaged over units."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or ():
            if k in self.stateful_metrics:
                self._values[k] = [v, 1]
                continue
            step = max(current - self._seen_so_far, 1)
            entry = self._values.setdefault(k, [0.0, 0])
            entry[0] += v * step
            entry[1] += step
        self._seen_so_far = current

        now = time.time()
        if self.verbose == 1:
            if not finalize:
                if now - self._last_update < self.interval:
                    return
                if not self._dynamic_display and now - self._last_log < self.log_interval:
                    return
            self._write_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            sys.stdout.write(" - %.0fs%s\n" % (now - self._start, self._metrics_text()))
            sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def set_value(self, name, value):
        """Sets a metric to show as is (e.g. a validation value at the end of an epoch)."""
        self._values[name] = [value, 1]

    def _metrics_text(self):
        info = ""
        for k, (total, count) in self._values.items():
            avg = total / max(1, count)
            info += " - %s:" % k
            info += (" %.4f" % avg) if abs(avg) > 1e-3 else (" %.4e" % avg)
        return info

    def _write_bar(self, current, now, finalize):
        prev_total_width = self._total_width
        if self._dynamic_display:
            sys.stdout.write("\r")
        if self.target is not None:
            numdigits = int(np.floor(np.log10(self.target))) + 1 if self.target > 0 else 1
            bar = ("%" + str(numdigits) + "d/%d [") % (current, self.target)
            prog_width = int(self.width * (float(current) / self.target if self.target else 1.0))
            if prog_width > 0:
                bar += "=" * (prog_width - 1)
                bar += ">" if current < self.target else "="
            bar += "." * (self.width - prog_width) + "]"
        else:
            bar = "%7d/Unknown" % current
        time_per_unit = (now - self._start) / current if current else 0.0
        if not finalize and self.target is not None:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_format = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_format = "%ds" % eta
            info = " - ETA: %s" % eta_format
        else:
            info = " - %.0fs" % (now - self._start)
            if time_per_unit >= 1:
                info += " %.0fs/%s" % (time_per_unit, self.unit_name)
            elif time_per_unit >= 1e-3:
                info += " %.0fms/%s" % (time_per_unit * 1e3, self.unit_name)
            else:
                info += " %.0fus/%s" % (time_per_unit * 1e6, self.unit_name)
        line = bar + info + self._metrics_text()
        self._total_width = len(line)
        if self._dynamic_display and prev_total_width > self._total_width:
            line += " " * (prev_total_width - self._total_width)
        if finalize or not self._dynamic_display:
            line += "\n"
        sys.stdout.write(line)
        sys.stdout.flush()
        self._last_log = now

"""Python plugins the corpus configs name by dotted path (corpus_plugins.X).

Put tests/corpus/valid/python on PYTHONPATH to run those configs for real;
`syslog-ng -s` does not import this module.

Written to load under both syslog-ng 3.38 (whose `syslogng` package has no
LogDestination/LogParser base classes) and newer APIs that have them.
"""

import threading

try:
    from syslogng import LogDestination
except ImportError:  # syslog-ng 3.38: destinations are plain classes
    LogDestination = object

try:
    from syslogng import LogParser
except ImportError:  # syslog-ng 3.38: parsers are plain classes
    LogParser = object

from syslogng import LogMessage, LogSource


class FileDestination(LogDestination):
    """Appends MESSAGE lines to options["path"]."""

    def init(self, options):
        self.path = options["path"]
        self.mode = "ab" if options.get("mode", "append") == "append" else "wb"
        self.fh = None
        return True

    def open(self):
        try:
            self.fh = open(self.path, self.mode)
        except OSError:
            return False
        return True

    def is_opened(self):
        return self.fh is not None

    def send(self, msg):
        self.fh.write(msg["MESSAGE"] + b"\n")
        return True

    def flush(self):
        if self.fh is not None:
            self.fh.flush()
        return True

    def close(self):
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def deinit(self):
        pass


class GeneratorSource(LogSource):
    """Posts options["count"] messages, then waits for request_exit()."""

    def init(self, options):
        self.count = int(options.get("count", 1))
        self.stop = threading.Event()
        return True

    def run(self):
        for i in range(self.count):
            if self.stop.is_set():
                break
            self.post_message(LogMessage("generated %d" % i))
        self.stop.wait()

    def request_exit(self):
        self.stop.set()


class KeyValueParser(LogParser):
    """Splits MESSAGE on spaces and '=' into name-value pairs under options["prefix"]."""

    def init(self, options):
        self.prefix = options.get("prefix", "")
        return True

    def parse(self, msg):
        for word in msg["MESSAGE"].split():
            if b"=" in word:
                key, _, value = word.partition(b"=")
                msg[self.prefix + key.decode("utf-8", "replace")] = value
        return True

"""The module of the seed 003 example "Making it more native config-wise".

`python-native-block.conf` wraps mydestination.MyDestination in a
`block destination my-destination(...)`. Put tests/corpus/valid/python on
PYTHONPATH to run it for real.
"""

try:
    from syslogng import LogDestination
except ImportError:  # syslog-ng 3.38 has no LogDestination base class
    LogDestination = object


class MyDestination(LogDestination):
    def init(self, options):
        self.option1 = options["option1"]
        self.option2 = options["option2"]
        return True

    def send(self, msg):
        return True

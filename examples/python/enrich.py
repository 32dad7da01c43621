"""A Python parser and a template function for examples/python-parser.conf.

SeverityTagger (a syslogng.LogParser) adds `is_error` ("yes"/"no") to every message and
drops messages whose text contains the word given in options(drop => "..."). `shout` is a
template function: `$(python enrich.shout $PROGRAM)` renders its argument in capitals.
"""

import logging

from syslogng import LogParser

logger = logging.getLogger("enrich")


class SeverityTagger(LogParser):
    def init(self, options):
        self.drop = options.get("drop", "")
        logger.info("SeverityTagger dropping messages with %r", self.drop)
        return True

    def parse(self, msg):
        text = msg["MESSAGE"].decode("utf-8", "replace")
        if self.drop and self.drop in text:
            return False                 # dropped from this log path
        msg["is_error"] = "yes" if "error" in text.lower() else "no"
        return True


def shout(msg, word=b""):
    """Template function: called with the message and the rendered arguments (bytes)."""
    return word.upper()

"""A Python destination for sluice (and syslog-ng), written per the python() destination
spec: every method of the interface, with the documented return codes.

It writes each message as one JSON object per line ("JSON Lines") into the file named by
the `path` option, in batches: send() queues the message and flush() writes the batch.
Used by examples/python-destination.conf as
`class(jsonl_destination.JsonLinesDestination)`.

Return codes (attributes the driver sets on the instance):
    self.SUCCESS        sent (same as True)
    self.ERROR          failed, retry after time-reopen() (same as False)
    self.DROP           give the message (or the batch) up
    self.QUEUED         send(): added to the batch; flush() decides
    self.NOT_CONNECTED  the target is gone: the driver calls open() again
    self.RETRY          retry, up to retries() times, then NOT_CONNECTED
"""

import json
import os

try:  # newer syslog-ng/sluice have a base class; 3.38 uses plain classes
    from syslogng import LogDestination
except ImportError:
    LogDestination = object


class JsonLinesDestination(LogDestination):

    def init(self, options):
        """Called at start and at each reload with the options() of the config.
        Returning False stops the daemon from starting."""
        self.path = options.get("path")
        if not self.path:
            return False
        # option values arrive as strings
        self.fields = options.get("fields", "ISODATE HOST PROGRAM PID LEVEL MESSAGE").split()
        self.max_message_size = int(options.get("max-message-size", "65536"))
        self.fh = None
        self.batch = []
        return True

    def open(self):
        """Called after init() and again after errors. False: retried every time-reopen()."""
        try:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self.fh = open(self.path, "a", encoding="utf-8")
        except OSError:
            self.fh = None
            return False
        return True

    def is_opened(self):
        """Asked after a failed send(): False makes the driver call open() again."""
        return self.fh is not None and not self.fh.closed

    def send(self, msg):
        """Called for every message. Here: validate, then queue it for flush()."""
        if len(msg["MESSAGE"]) > self.max_message_size:
            return self.DROP                 # never deliverable: do not retry
        if not self.is_opened():
            return self.NOT_CONNECTED        # the driver will call open() again
        record = {}
        for name in self.fields:
            value = msg[name]
            record[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        self.batch.append(json.dumps(record, ensure_ascii=False))
        return self.QUEUED                   # acknowledged when flush() succeeds

    def flush(self):
        """Writes the queued batch (batch-lines()/batch-timeout() decide when)."""
        if not self.batch:
            return self.SUCCESS
        try:
            self.fh.write("\n".join(self.batch) + "\n")
            self.fh.flush()
        except OSError:
            return self.ERROR                # batch kept; retried after time-reopen()
        self.batch = []
        return self.SUCCESS

    def close(self):
        """Called before deinit() and after a failed send()."""
        if self.fh is not None:
            try:
                self.fh.close()
            finally:
                self.fh = None

    def deinit(self):
        """Called at stop and before a reload. No return value."""
        self.batch = []

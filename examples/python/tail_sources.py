"""Two Python sources for sluice (and syslog-ng): a fetcher that follows a text file,
remembering how far it got in the persist file only once the lines were delivered, and a
LogSource that runs a small asyncio TCP server, one message per line received.

Used by examples/python-sources.conf.
"""

import asyncio

from syslogng import LogFetcher, LogMessage, LogSource, Persist, ConsecutiveAckTracker


class FileFetcher(LogFetcher):
    """Fetches the lines of options["path"] one by one; FETCH_NO_DATA at its end.

    The bookmark of each message is the file offset after its line; the
    ConsecutiveAckTracker reports it once that line and every line before it were
    delivered, and it goes into Persist: a restart (even after kill -9) goes on from the
    last delivered line.
    """

    def init(self, options):
        self.path = options["path"]
        self.persist = Persist("FileFetcher(%s)" % self.path, defaults={"offset": 0})
        self.ack_tracker = ConsecutiveAckTracker(ack_callback=self.delivered)
        self.file = None
        return True

    def open(self):
        try:
            self.file = open(self.path, "rb")
        except OSError:
            return False  # retried every time-reopen()
        self.file.seek(self.persist["offset"])
        return True

    def close(self):
        if self.file:
            self.file.close()
            self.file = None

    def delivered(self, offset):
        self.persist["offset"] = offset

    def fetch(self):
        line = self.file.readline()
        if not line.endswith(b"\n"):
            self.file.seek(-len(line), 1)
            return LogFetcher.FETCH_NO_DATA, None
        msg = LogMessage.parse(line.rstrip(b"\n"), self.parse_options)
        msg.set_bookmark(self.file.tell())
        return LogFetcher.FETCH_SUCCESS, msg


class LineServer(LogSource):
    """A TCP server on options["port"]: every line a client sends is a message."""

    def init(self, options):
        self.port = int(options["port"])
        self.loop = asyncio.new_event_loop()
        return True

    async def client(self, reader, writer):
        while line := await reader.readline():
            msg = LogMessage.parse(line.rstrip(b"\n"), self.parse_options)
            msg["client"] = str(writer.get_extra_info("peername")[0])
            self.post_message(msg)
        writer.close()

    def run(self):
        server = self.loop.run_until_complete(
            asyncio.start_server(self.client, "127.0.0.1", self.port))
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())

    def request_exit(self):
        self.loop.call_soon_threadsafe(self.loop.stop)

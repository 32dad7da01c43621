#!/usr/bin/env python3
"""Writes inputs/*.txt (raw bytes: some lines hold control characters and invalid UTF-8).

The inputs are committed; this script documents how the unusual bytes got there and can
regenerate them. One message per line.
"""
import os

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "inputs")
os.makedirs(out, exist_ok=True)

rfc5424 = [
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
    b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    b'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event log entry...',
    b'<13>1 2024-01-01T00:00:00+05:45 nepal app 1 - [a@1 x="esc \\" q \\\\ b \\] c"] quotes "double" \'single\' back\\slash',
    b"<13>1 2024-03-31T01:30:00.5+01:00 h app - - - before the DST gap in Budapest",
    b"<13>1 2024-10-27T02:30:00.123456+02:00 h app - - - in the fold",
    b"<191>1 2024-07-04T23:59:59.999999-04:00 h app 99999 MSGID - debug local7 PM",
    b"<0>1 2024-12-30T12:00:00Z h kern - - - emerg kern, ISO week 1 of 2025",
    b"<13>1 2021-01-03T00:00:00Z h app - - - Sunday, ISO week 53",
    b"<13>1 2024-02-29T00:00:00-00:30 h app - - - leap day, negative half hour",
    b"<13>1 2024-06-15T12:00:00Z - - - - - nil host and program",
    b"<13>1 2024-06-15T12:00:00Z h app - - - tab\tinside, ctrl\x01 and unicode \xc3\xa1rv\xc3\xadzt\xc5\xb1r\xc5\x91",
    b"<13>1 2024-06-15T12:00:00Z h app - - - invalid utf8 \xff\xfe end",
    b"<13>1 1970-01-01T00:00:00Z h app - - - epoch",
    b"<13>1 2038-01-19T03:14:08Z h app - - - past 2038",
    b'<13>1 2024-06-15T12:00:00Z h app - - [meta sequenceId="7"] meta seq',
    b"<13>1 2024-01-01T11:00:00Z h app - - - hour 11 AM",
    b"<13>1 2024-01-01T12:00:00Z h app - - - noon",
    b"<200>1 2024-01-07T00:30:00Z h app - - - facility 25, sunday",
    b"<13>1 2024-06-15T12:00:00Z h app - - -  leading and trailing spaces  ",
    b"<13>1 2024-06-15T12:00:00Z h app - - - 12345",
    b"<13>1 2024-06-15T12:00:00Z h app - - - \xef\xbb\xbfwith BOM: \xc3\xa1rv\xc3\xadz",
    b'<13>1 2024-06-15T12:00:00Z h app - - [x@1 a="1"][meta sequenceId="abc"] bad sequence id',
]

rfc3164 = [
    b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
    b"<13>Mar  1 10:00:00 host sshd[42]: Accepted publickey for root",
    b"<13>Mar  1 10:00:00.123 host prog[1]: BSD with fraction",
    b"<13>2024-07-01T12:00:00.5-05:30 host prog: iso with fraction and offset",
    b"<13>2024-07-01T12:00:00 host prog: iso without zone, summer in Budapest",
    b"<13>2024-01-15T12:00:00 host prog: iso without zone, winter",
    b"<13>Mar  1 10:00:00 host prog no colon",
    b"<13>Mar  1 10:00:00 host [123]: empty program",
    b"<13>just text",
    b"<189>123: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console",
    b"<13>Mar  1 10:00:00 host prog: quotes \"dq\" 'sq' back\\slash",
    b"<13>Mar  1 10:00:00 host prog: ctrl\x01\x1f tab\t end",
    b"<13>Mar  1 10:00:00 host prog: invalid \xc3\x28 utf8",
    b"<13>Mar  1 10:00:00 host prog[12]:x no space after colon",
    b"<0>Mar  1 10:00:00 host kernel: kern",
    b"<191>Dec 31 23:59:59 host prog[1]: local7 debug",
    b"<13>Jul 15 12:00:00 host prog: summer",
]

with open(os.path.join(out, "rfc5424.txt"), "wb") as f:
    f.write(b"".join(l + b"\n" for l in rfc5424))
with open(os.path.join(out, "rfc3164.txt"), "wb") as f:
    f.write(b"".join(l + b"\n" for l in rfc3164))

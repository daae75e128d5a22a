# SPDX-License-Identifier: MIT
"""A loopback HTTP server (stdlib http.server, a thread per connection, HTTP/1.1 keep-alive)
whose every request renders a small page and a JSON document: the process a profiler
targets in the HTTP case. httpload.py drives it.

    python3 httpserver.py

Listens on 127.0.0.1 on a free port and prints "port N" once it accepts connections;
GET /quit stops it. Serves only 127.0.0.1.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def page(n):
    rows = "".join('<tr><td>%d</td><td>item %d</td><td>%.2f</td></tr>' % (i, i * 7, i * 0.37)
                   for i in range(n))
    doc = json.dumps({"rows": n, "items": [{"id": i, "name": "item %d" % i} for i in range(n)]})
    return ("<html><body><table>%s</table><script>%s</script></body></html>"
            % (rows, doc)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True	# headers and body are two writes: no 40 ms waits

    def do_GET(self):
        if self.path == "/quit":
            body = b"bye"
            threading.Thread(target=self.server.shutdown).start()
        else:
            body = page(40)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128	# the default 5 drops connects: 1 s retries
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sys.stdout.write("port %d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()

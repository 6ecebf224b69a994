#!/usr/bin/env python3
"""Drives a headless Chromium through the DevTools protocol (standard library only: its WebSocket
client is the few lines below), for the page tests of `gantry serve`.

Usage: cdp.py CHROMIUM PROFILE_DIR ACTIONS_JSON
ACTIONS_JSON is a list of steps, done in order:
  {"go": URL}                              load a page and wait for it
  {"wait": JS, "timeout": SECONDS}         wait until the expression is truthy (fails after the timeout)
  {"eval": JS}                             the expression's value goes to the output
  {"shot": PATH, "width": W, "height": H}  a PNG of the whole page at that viewport width; the page's
                                           scroll width there goes to the output
  {"touch": PATH}                          create a file (a test's signal to a running job)
  {"cookie": NAME, "value": V, "url": U}   set a cookie
Prints {"results": [...], "error": null or "..."} as JSON; exits 0 unless Chromium failed to start.
"""
import base64, json, os, socket, struct, subprocess, sys, time, urllib.request

chromium, profile, actions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])


class WebSocket:
    def __init__(self, url):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), 10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("no websocket: " + head.decode(errors="replace"))
        self.next_id = 0

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise RuntimeError("the websocket closed")
            data += chunk
        return data

    def receive(self):
        message = b""
        while True:
            first, second = self.exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self.exact(8))[0]
            payload = self.exact(length)
            message += payload
            if first & 0x80:
                return message.decode()

    def call(self, method, **params):
        self.next_id += 1
        self.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.receive())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})


os.makedirs(os.path.join(profile, "tmp"), exist_ok=True)
port_socket = socket.socket()
port_socket.bind(("127.0.0.1", 0))
port = port_socket.getsockname()[1]
port_socket.close()
browser = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                            "--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--mute-audio",
                            f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "--remote-allow-origins=*",
                            "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           # Its scratch files go into the profile, which the test removes.
                           env=dict(os.environ, TMPDIR=os.path.join(profile, "tmp")))
results, error = [], None
try:
    target = None
    for _ in range(300):
        try:
            pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1))
            target = next((p for p in pages if p.get("type") == "page"), None)
            if target:
                break
        except OSError:
            pass
        time.sleep(0.1)
    if not target:
        print(json.dumps({"results": [], "error": "chromium did not start"}))
        sys.exit(1)
    ws = WebSocket(target["webSocketDebuggerUrl"])
    ws.call("Page.enable")
    ws.call("Runtime.enable")

    def evaluate(expression):
        result = ws.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def wait(expression, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if evaluate(expression):
                return True
            time.sleep(0.1)
        raise RuntimeError(f"not true within {timeout} s: {expression}")

    for action in actions:
        if "go" in action:
            ws.call("Page.navigate", url=action["go"])
            wait("document.readyState === 'complete' && location.href !== 'about:blank'", 30)
        elif "wait" in action:
            wait(action["wait"], action.get("timeout", 30))
        elif "eval" in action:
            results.append(evaluate(action["eval"]))
        elif "shot" in action:
            ws.call("Emulation.setDeviceMetricsOverride", width=action["width"], height=action["height"], deviceScaleFactor=1,
                    mobile=action["width"] < 600)
            time.sleep(0.3)
            results.append(evaluate("document.documentElement.scrollWidth"))
            height = evaluate("Math.ceil(document.documentElement.scrollHeight)")
            ws.call("Emulation.setDeviceMetricsOverride", width=action["width"], height=max(action["height"], height),
                    deviceScaleFactor=1, mobile=action["width"] < 600)
            time.sleep(0.3)
            shot = ws.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            with open(action["shot"], "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            ws.call("Emulation.clearDeviceMetricsOverride")
        elif "touch" in action:
            open(action["touch"], "a").close()
        elif "cookie" in action:
            ws.call("Network.setCookie", name=action["cookie"], value=action["value"], url=action["url"])
except Exception as failure:  # reported to the test, which fails with it
    error = str(failure)
finally:
    browser.terminate()
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
        browser.wait()
print(json.dumps({"results": results, "error": error}))

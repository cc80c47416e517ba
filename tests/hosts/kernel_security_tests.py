#!/usr/bin/python3
"""A crafted client attacks NotebookLab's kernel while a real jupyter_client uses it.

Every message below asks the kernel to append a character to a marker file. Unsigned, mis-signed, replayed and
malformed messages (on shell and control) must all be refused, never executed; the kernel must log why, stay up and
keep serving the real client. An unsigned shutdown_request on control must not stop it.

    JUPYTER_PATH=DIR NOTEBOOKLAB_KERNEL=NAME /usr/bin/python3 -m unittest -v tests/hosts/kernel_security_tests.py
"""
import hashlib
import hmac
import json
import os
import tempfile
import time
import unittest
import uuid
from datetime import datetime, timezone

import zmq
from jupyter_client.manager import start_new_kernel

KERNEL = os.environ.get("NOTEBOOKLAB_KERNEL", "notebooklab")
DELIMITER = b"<IDS|MSG>"


class CraftedClient:
    def __init__(self, connection, channel="shell"):
        self.key = connection["key"].encode()
        self.context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(f"tcp://{connection['ip']}:{connection[channel + '_port']}")

    def parts(self, msg_type, content, header=None):
        header = header or {"msg_id": uuid.uuid4().hex, "session": uuid.uuid4().hex, "username": "attacker",
                            "date": datetime.now(timezone.utc).isoformat(), "msg_type": msg_type, "version": "5.3"}
        return [json.dumps(p).encode() for p in (header, {}, {}, content)]

    def sign(self, parts, key=None):
        mac = hmac.new(key if key is not None else self.key, digestmod=hashlib.sha256)
        for p in parts:
            mac.update(p)
        return mac.hexdigest().encode()

    def send(self, frames):
        self.socket.send_multipart(frames)

    def receive(self, timeout_ms):
        if self.socket.poll(timeout_ms):
            return self.socket.recv_multipart()
        return None

    def close(self):
        self.socket.close()


class KernelSecurityTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = tempfile.NamedTemporaryFile(prefix="nl-kernel-", suffix=".log", delete=False)
        cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120, stderr=cls.log)
        cls.connection = cls.km.get_connection_info(session=False)
        cls.connection["key"] = cls.connection["key"].decode() if isinstance(cls.connection["key"], bytes) else cls.connection["key"]
        cls.marker = tempfile.mktemp(prefix="nl-marker-")

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)
        cls.log.close()
        for path in (cls.log.name, cls.marker):
            if os.path.exists(path):
                os.remove(path)

    def code(self, mark):
        return f'System.IO.File.AppendAllText({json.dumps(self.marker)}, "{mark}");'

    def marks(self):
        if not os.path.exists(self.marker):
            return ""
        with open(self.marker) as f:
            return f.read()

    def kernel_log(self):
        with open(self.log.name) as f:
            return f.read()

    def assert_real_client_served(self):
        msg_id = self.kc.execute("6 * 7")
        deadline = time.monotonic() + 30
        while True:
            self.assertLess(time.monotonic(), deadline, "the real client got no reply")
            reply = self.kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertTrue(self.km.is_alive())

    def attack(self, frames_for, channel="shell", expect_reply=False):
        client = CraftedClient(self.connection, channel)
        try:
            client.send(frames_for(client))
            reply = client.receive(1500)
            if not expect_reply:
                self.assertIsNone(reply, "the kernel answered a message it should have dropped")
            return reply
        finally:
            client.close()

    def test_1_unsigned_message_is_refused(self):
        self.attack(lambda c: [DELIMITER, b""] + c.parts("execute_request", {"code": self.code("U"), "silent": False}))
        self.assert_real_client_served()
        self.assertNotIn("U", self.marks())
        self.assertIn("unsigned message", self.kernel_log())

    def test_2_mis_signed_message_is_refused(self):
        def frames(c):
            parts = c.parts("execute_request", {"code": self.code("M"), "silent": False})
            return [DELIMITER, c.sign(parts, key=b"not the key")] + parts
        self.attack(frames)
        def tampered(c):
            parts = c.parts("execute_request", {"code": "1", "silent": False})
            signature = c.sign(parts)
            parts[3] = json.dumps({"code": self.code("T"), "silent": False}).encode()   # signed, then changed
            return [DELIMITER, signature] + parts
        self.attack(tampered)
        self.assert_real_client_served()
        self.assertNotIn("M", self.marks())
        self.assertNotIn("T", self.marks())
        self.assertIn("invalid signature", self.kernel_log())

    def test_3_replayed_message_runs_once(self):
        client = CraftedClient(self.connection)
        try:
            parts = client.parts("execute_request", {"code": self.code("R"), "silent": False})
            frames = [DELIMITER, client.sign(parts)] + parts
            client.send(frames)
            self.assertIsNotNone(client.receive(30000), "a correctly signed request got no reply")
            client.send(frames)
            self.assertIsNone(client.receive(1500), "the replayed request was answered")
        finally:
            client.close()
        self.assert_real_client_served()
        self.assertEqual(self.marks().count("R"), 1)
        self.assertIn("replayed message", self.kernel_log())

    def test_4_malformed_messages_are_refused_and_the_kernel_survives(self):
        def signed(header_bytes, content_bytes=b"{}"):
            def frames(c):
                parts = [header_bytes, b"{}", b"{}", content_bytes]
                return [DELIMITER, c.sign(parts)] + parts
            return frames
        attacks = [
            lambda c: [b"no delimiter at all"],
            lambda c: [DELIMITER, b"deadbeef"],
            lambda c: [b"\xff\xfe" * 1000, DELIMITER, b"", b"{", b"}", b"[", b"]"],
            signed(b"{not json"),
            signed(b"[1, 2, 3]"),
            signed(json.dumps({"msg_id": "x", "session": "s", "username": "u", "date": "", "version": "5.3"}).encode()),
            signed(b"\xff\xfe\xfd"),
            lambda c: [os.urandom(64) for _ in range(12)],
        ]
        for frames in attacks:
            self.attack(frames)
        # Signed and well formed, but content of the wrong shape: answered with an error, nothing runs.
        def wrong_content(c):
            parts = c.parts("execute_request", {"code": 12345})
            return [DELIMITER, c.sign(parts)] + parts
        reply = self.attack(wrong_content, expect_reply=True)
        self.assertIsNotNone(reply, "a signed request with bad content got no error reply")
        content = json.loads(reply[reply.index(DELIMITER) + 5])
        self.assertEqual(content["status"], "error")
        self.assertIn("content.code", content["evalue"])
        self.assert_real_client_served()
        log = self.kernel_log()
        self.assertIn("no <IDS|MSG> delimiter", log)
        self.assertIn("header is not valid JSON", log)

    def test_5_unsigned_shutdown_on_control_does_not_stop_the_kernel(self):
        self.attack(lambda c: [DELIMITER, b""] + c.parts("shutdown_request", {"restart": False}), channel="control")
        def mis_signed(c):
            parts = c.parts("shutdown_request", {"restart": False})
            return [DELIMITER, c.sign(parts, key=b"wrong")] + parts
        self.attack(mis_signed, channel="control")
        time.sleep(1)
        self.assert_real_client_served()
        self.assertIn("rejected a message on control", self.kernel_log())


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/python3
"""What users do with a kernel beyond the protocol suite, through Debian's jupyter_client, against NotebookLab's kernel:
interrupt a running `while (true) {}` (by message, as the kernelspec says, and by SIGINT), keep the session's
variables, answer the next cell within seconds; Console.ReadLine through input_request; a live display updated in
place (update_display_data with the display_id of the display_data); cells queued behind a failing cell aborted
("Run all" stops at the first error); restart.

    JUPYTER_PATH=DIR NOTEBOOKLAB_KERNEL=NAME /usr/bin/python3 -m unittest -v tests/hosts/kernel_session_tests.py
"""
import os
import signal
import time
import unittest
from queue import Empty

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ.get("NOTEBOOKLAB_KERNEL", "notebooklab")

# A Jupyter server catches SIGINT itself, so the kernels it starts begin with SIGINT at its default. Started from a
# background job without job control (`cmd &` in a script), this process would instead inherit SIGINT *ignored* and
# hand that on to every kernel it starts, and .NET keeps a signal that was ignored at start-up ignored. Catch it here,
# as the server does, so that the SIGINT test measures the kernel, not how this test was launched.
signal.signal(signal.SIGINT, signal.default_int_handler)


def execute(kc, code, timeout=60, allow_stdin=False, on_input=None):
    """Runs code; returns (reply content, [iopub messages for it]) and answers input_request with on_input(prompt)."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    deadline = time.monotonic() + timeout
    reply = None
    while reply is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no execute_reply within {timeout} s for {code!r}")
        if on_input is not None:
            try:
                request = kc.get_stdin_msg(timeout=0.05)
                if request["msg_type"] == "input_request":
                    kc.input(on_input(request["content"]["prompt"]))
            except Empty:
                pass
        try:
            msg = kc.get_shell_msg(timeout=0.1)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            reply = msg["content"]
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    return reply, outputs


def result_text(outputs):
    return [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]


class KernelSessionTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def interrupt_endless_loop(self, interrupt):
        reply, _ = execute(self.kc, "var before = 41;\nint AddOne(int x) => x + 1;")
        self.assertEqual(reply["status"], "ok")
        loop_id = self.kc.execute("while (true) { }")
        time.sleep(1.5)
        started = time.monotonic()
        interrupt()
        reply = None
        while reply is None:
            self.assertLess(time.monotonic() - started, 10, "the loop was not interrupted within 10 s")
            try:
                msg = self.kc.get_shell_msg(timeout=0.5)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") == loop_id:
                reply = msg["content"]
        stopped = time.monotonic() - started
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "Interrupted")
        started = time.monotonic()
        reply, outputs = execute(self.kc, "AddOne(before)", timeout=10)
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(result_text(outputs), ["42"])
        print(f"\n  interrupted after {stopped:.2f} s; next cell answered in {time.monotonic() - started:.3f} s", end=" ")

    def test_interrupt_by_message_stops_an_endless_loop_and_keeps_the_session(self):
        self.assertEqual(self.km.kernel_spec.interrupt_mode, "message")
        self.interrupt_endless_loop(self.km.interrupt_kernel)

    def test_interrupt_by_sigint_stops_an_endless_loop_and_keeps_the_session(self):
        self.interrupt_endless_loop(lambda: self.km.signal_kernel(signal.SIGINT))

    def test_console_readline_asks_the_front_end(self):
        prompts = []
        reply, outputs = execute(self.kc, 'var name = Console.ReadLine();\n$"hello {name}"', allow_stdin=True,
                                 on_input=lambda prompt: prompts.append(prompt) or "Ada")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(result_text(outputs), ["hello Ada"])
        self.assertEqual(len(prompts), 1)

    def test_console_readline_without_stdin_fails_clearly(self):
        reply, _ = execute(self.kc, "Console.ReadLine()", allow_stdin=False)
        self.assertEqual(reply["status"], "error")
        self.assertIn("allow_stdin", reply["evalue"])

    def test_a_live_display_is_updated_in_place(self):
        reply, outputs = execute(self.kc, 'var d = display("step 0");\nfor (int i = 1; i <= 3; i++) d.Update($"step {i}");')
        self.assertEqual(reply["status"], "ok")
        shown = [m for m in outputs if m["msg_type"] == "display_data"]
        updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(len(updates), 3)
        display_id = shown[0]["content"]["transient"]["display_id"]
        self.assertTrue(display_id)
        self.assertTrue(all(u["content"]["transient"]["display_id"] == display_id for u in updates))
        self.assertEqual(updates[-1]["content"]["data"]["text/plain"], "step 3")

    def test_cells_queued_behind_a_failing_cell_are_aborted(self):
        ids = [self.kc.execute('System.Threading.Thread.Sleep(500); throw new Exception("stop");'),
               self.kc.execute("var ranAfter = 1;"), self.kc.execute("2 + 2")]
        replies = {}
        while len(replies) < 3:
            msg = self.kc.get_shell_msg(timeout=60)
            if msg["parent_header"].get("msg_id") in ids:
                replies[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
        self.assertEqual([replies[i] for i in ids], ["error", "aborted", "aborted"])
        reply, _ = execute(self.kc, "ranAfter")
        self.assertEqual(reply["status"], "error")
        reply, outputs = execute(self.kc, "1 + 1")
        self.assertEqual(result_text(outputs), ["2"])

    def test_restart_gives_a_fresh_session(self):
        reply, _ = execute(self.kc, "var kept = 1;")
        self.assertEqual(reply["status"], "ok")
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=120)
        reply, outputs = execute(self.kc, "kept")
        self.assertEqual(reply["status"], "error")
        self.assertIn("CS0103", reply["evalue"])
        reply, outputs = execute(self.kc, "1 + 1")
        self.assertEqual(result_text(outputs), ["2"])


if __name__ == "__main__":
    unittest.main()

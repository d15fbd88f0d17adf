"""A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""
import email
import email.policy
import socket
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailCatcher:
    """``answers`` maps a recipient to the reply its RCPT gets instead of 250: a string
    (every time) or a list (one reply per attempt, then 250). With ``login``
    (user, password) the server demands AUTH."""

    def __init__(self, login=None):
        self.messages = []
        self.answers = {}
        self.port = free_port()
        options = {}
        if login:
            options = {"auth_required": True, "auth_require_tls": False,
                       "authenticator": self._authenticator(login)}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    @staticmethod
    def _authenticator(login):
        def authenticate(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            # handled=False: the server itself answers 535 to a wrong password
            return AuthResult(success=given == login, handled=False)

        return authenticate

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.get(address)
        if isinstance(answer, list):
            answer = answer.pop(0) if answer else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def to(self, address):
        return [message for rcpt, message in self.messages if address in rcpt]

    def wait_for(self, address, limit=20.0):
        deadline = time.monotonic() + limit
        while not self.to(address):
            assert time.monotonic() < deadline, f"no mail to {address} within {limit} s"
            time.sleep(0.05)
        return self.to(address)


def parts(message):
    """{content type: decoded text} of a received message."""
    return {part.get_content_type(): part.get_content()
            for part in message.walk() if not part.is_multipart()}

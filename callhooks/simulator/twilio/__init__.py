"""Twilio Programmable Voice as the simulator plays it: :class:`TwilioProfile` (``Simulator(platform="twilio")``):
the Calls API, TwiML, and webhooks signed as Twilio signs them (docs/platforms/twilio-simulator.md)."""

from .encoding import TwilioEncoding
from .profile import TwilioProfile

__all__ = ["TwilioEncoding", "TwilioProfile"]

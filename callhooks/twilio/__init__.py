"""Twilio Programmable Voice."""

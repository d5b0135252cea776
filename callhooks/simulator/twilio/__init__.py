"""The simulator's Twilio Programmable Voice profile: the Calls API, TwiML, and webhooks signed as Twilio signs them."""

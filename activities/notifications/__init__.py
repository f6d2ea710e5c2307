"""Notices to a key's owner by e-mail (SendGrid) and SMS (Twilio), each sent exactly once."""

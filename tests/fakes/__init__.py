"""Local HTTP fakes of external providers (SendGrid, Twilio) for tests with the real SDKs."""

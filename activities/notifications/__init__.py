"""Notices to a key's owner by e-mail (SendGrid) and SMS (Twilio), each sent exactly once."""

from activities.notifications.activity import NoticeActivities
from activities.notifications.channels import Channels, build_channels
from activities.notifications.renderer import NoticeRenderer

__all__ = ["Channels", "NoticeActivities", "NoticeRenderer", "build_channels"]

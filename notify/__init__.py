"""Notifications (通知): notices (an urgent case opened, a case overdue, an urgent violation started) delivered to
people through pluggable notifiers (generic webhook, WeChat Work and DingTalk group robots, an SMS gateway), each
message stored, retried with back-off and recorded. Knows the configuration and the store, nothing above them."""

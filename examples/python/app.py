import platform

from markupsafe import escape

print(escape(f"<hello from {platform.machine()}>"))

"""``cupyx.scipy`` on the fake: only ``special``."""

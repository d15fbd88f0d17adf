"""The kernel's admin pages: sign-in, dashboard, plugins, and the HTML error pages."""

"""The kernel's admin pages: sign-in, dashboard, customers, plugins, and the HTML error pages."""

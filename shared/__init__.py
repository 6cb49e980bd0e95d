"""Code shared by the three services: settings, storage, the web scaffold, logging."""

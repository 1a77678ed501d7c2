# pytester runs pytest inside a test: the plugin's own tests use it.
pytest_plugins = ["pytester"]

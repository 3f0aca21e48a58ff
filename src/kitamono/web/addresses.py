"""Where the pages may be served: the default address, the addresses that reach this machine only,
and those that cannot be checked. Read by the command line, the quick start, the server and the
application alike, and loads nothing."""

#: Where the pages are served unless ``--port`` and ``--host`` say otherwise: this machine only.
DEFAULT_PORT = 8470
DEFAULT_HOST = "127.0.0.1"
#: The addresses that reach this machine only; any other needs the token.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Addresses that name every interface: a request cannot be checked against them (DNS rebinding).
ANY_ADDRESS = ("0.0.0.0", "::", "")

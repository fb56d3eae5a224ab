# soco/exceptions.py: what `Service.handle_upnp_error` raises. A fault the player explains is
# a SoCoUPnPException (its code a string, its XML the answer's bytes); one it does not is
# another SoCoException (UnknownSoCoException).

class SoCoException(Exception): ...

class SoCoUPnPException(SoCoException):
    message: str
    error_code: str
    error_description: str
    error_xml: bytes | str
    def __init__(
        self, message: str, error_code: str, error_xml: bytes | str, error_description: str = ""
    ) -> None: ...

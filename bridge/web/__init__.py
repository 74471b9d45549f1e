"""The web room: the browser door, a call from a page over WebRTC.

The HTTP server that serves the page (``http``, the page itself in
``static/``) and its TLS (``tls``), the signalling over the ``/ws`` WebSocket
(``signalling``), ICE configuration (``ice``), the peer connection and its
sessions (``webrtc``), and one session's audio as the brain's channel
(``browser_channel``, with PyAV frame conversions in ``browser_audio``).
"""

"""The bridge: the phone and the browser as channels of the brain, in rooms.

``phone/`` (AudioSocket calls from Asterisk), ``web/`` (the browser door over
WebRTC), ``media/`` (pacing, jitter, codecs, resampling and ``ChannelMedia``,
shared by both), ``pbx/`` (the Asterisk we run); at the top, the app wiring:
``stack``, ``cli``, ``config``, ``bridge_process``.
"""

"""The media room: audio plumbing shared by the phone and the browser, with no transport.

Pacing on a monotonic 20 ms grid and the bounded outbound buffer (``pacer``),
the inbound burst absorber (``jitter``), G.711 and slin codecs (``codecs``),
streaming anti-aliased resampling between the wire's rate and the brain's
(``resample``), and ``ChannelMedia`` (``channel_media``): what both channels do
on each tick of their media clock; WAV files written whole (``wav``).
"""

"""The phone room: calls that come from Asterisk over AudioSocket.

The sans-I/O AudioSocket protocol (``audiosocket``), one ``Call`` per TCP
connection with its 20 ms media clock on the 8 kHz wire (``call``), the server
that accepts those connections (``server``), the AMI health check of the
Asterisk we run (``ami``), the prompts spoken in the bot's voice for the phone
(``prompts``) and the minimal greeting app (``greeter``).
"""

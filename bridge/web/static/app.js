// The browser door's page: microphone -> WebRTC -> the bridge; the bot's voice back;
// the conversation as text. Signalling: one offer (ICE gathered first) and one answer
// over the /ws WebSocket, then session events (turn, partial, state, error).
"use strict";

(() => {
  const config = window.VOICEBOT_CONFIG || {};
  const $ = (id) => document.getElementById(id);
  const startButton = $("start");
  const hangupButton = $("hangup");
  const stateLabel = $("state");
  const conversation = $("conversation");
  const partial = $("partial");
  const errorLine = $("error");
  const botAudio = $("bot-audio");

  let pc = null;
  let ws = null;
  let mic = null;

  // For tests and curious users: the live peer connection and its inbound audio bytes.
  window.voicebot = {
    pc: null,
    stats: async () => {
      let inboundAudioBytes = 0;
      if (pc) {
        (await pc.getStats()).forEach((report) => {
          if (report.type === "inbound-rtp" && report.kind === "audio") {
            inboundAudioBytes += report.bytesReceived || 0;
          }
        });
      }
      return { inboundAudioBytes };
    },
  };

  function setState(state) {
    stateLabel.textContent = state;
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function addTurn(event) {
    const turn = document.createElement("div");
    turn.className = "turn";
    turn.dataset.role = event.role;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = event.text + (event.interrupted ? " …" : "");
    turn.appendChild(text);
    if (event.role === "bot" && typeof event.latency_ms === "number") {
      const latency = document.createElement("span");
      latency.className = "latency";
      latency.textContent = `latency ${Math.round(event.latency_ms)} ms`;
      turn.appendChild(latency);
    }
    conversation.appendChild(turn);
    turn.scrollIntoView({ block: "end" });
  }

  function onMessage(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (err) {
      showError(`bad message from the server: ${err}`);
      return;
    }
    switch (event.type) {
      case "answer":
        pc.setRemoteDescription({ type: "answer", sdp: event.sdp }).catch((err) =>
          showError(`cannot use the answer: ${err}`),
        );
        break;
      case "turn":
        if (event.role === "user") partial.textContent = "";
        addTurn(event);
        break;
      case "partial":
        partial.textContent = event.text;
        break;
      case "barge_in":
        partial.textContent = "";
        break;
      case "state":
        setState(event.state + (event.reason ? ` (${event.reason})` : ""));
        break;
      case "error":
        showError(event.error);
        break;
      default:
        break;
    }
  }

  function iceGathered(peer, timeoutMs) {
    // Non-trickle signalling: the offer carries every candidate, so wait for gathering.
    if (peer.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (peer.iceGatheringState === "complete") {
          peer.removeEventListener("icegatheringstatechange", done);
          resolve();
        }
      };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, timeoutMs);
    });
  }

  async function start() {
    showError("");
    startButton.disabled = true;
    hangupButton.disabled = false;
    try {
      setState("asking for the microphone");
      mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      pc = new RTCPeerConnection({ iceServers: config.iceServers || [] });
      window.voicebot.pc = pc;
      mic.getTracks().forEach((track) => pc.addTrack(track, mic));
      pc.ontrack = (event) => {
        botAudio.srcObject = event.streams[0] || new MediaStream([event.track]);
        botAudio.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        setState(pc.connectionState);
        if (pc.connectionState === "failed") stop("the connection failed");
      };
      setState("gathering network candidates");
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, 5000);
      setState("connecting");
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      // The page's own query goes to /ws as it is: ?token= (access) and ?agent=NAME
      // (which agent answers; the default agent without it).
      ws = new WebSocket(`${scheme}//${location.host}${config.wsPath || "/ws"}${location.search}`);
      ws.onopen = () => ws.send(JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }));
      ws.onmessage = onMessage;
      ws.onclose = (event) => {
        if (event.code !== 1000 && event.reason) showError(event.reason);
        stop();
      };
    } catch (err) {
      showError(`cannot start the call: ${err}`);
      stop();
    }
  }

  function stop(reason) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "hangup" }));
    }
    if (ws) ws.close();
    ws = null;
    if (mic) mic.getTracks().forEach((track) => track.stop());
    mic = null;
    // The peer connection stays readable (stats) until the next call replaces it.
    if (pc && pc.connectionState !== "closed") pc.close();
    if (reason) showError(reason);
    setState("ended");
    startButton.disabled = false;
    hangupButton.disabled = true;
    partial.textContent = "";
  }

  startButton.addEventListener("click", start);
  hangupButton.addEventListener("click", () => stop());
})();

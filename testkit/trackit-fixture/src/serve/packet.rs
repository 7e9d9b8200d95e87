//! TDS packet framing (MS-TDS 2.2.3): 8-byte header, EOM status bit, reassembly of multi-packet requests and
//! splitting of responses at the negotiated packet size.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Packet type: SQL batch.
pub const SQL_BATCH: u8 = 0x01;
/// Packet type: RPC request.
pub const RPC: u8 = 0x03;
/// Packet type: tabular result (every server response).
pub const REPLY: u8 = 0x04;
/// Packet type: Attention (cancel).
pub const ATTENTION: u8 = 0x06;
/// Packet type: transaction manager request.
pub const TRANSACTION: u8 = 0x0E;
/// Packet type: LOGIN7.
pub const LOGIN7: u8 = 0x10;
/// Packet type: PRELOGIN.
pub const PRELOGIN: u8 = 0x12;

/// Largest message this server accepts (a 64 MB request is far beyond what the extractor sends).
const MAX_MESSAGE: usize = 64 << 20;

/// A complete client message: the type of its packets and the concatenated payload.
#[derive(Debug)]
pub struct Message {
    /// Packet type of the message.
    pub ty: u8,
    /// Payload of all its packets.
    pub data: Vec<u8>,
}

/// Reads one message (packets until one with the EOM bit). Returns `Ok(None)` on a clean EOF between messages.
///
/// # Errors
/// I/O errors, a malformed header or a message over 64 MB.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Message>> {
    let mut data = Vec::new();
    let mut ty = None;
    loop {
        let mut hdr = [0u8; 8];
        match r.read_exact(&mut hdr).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && ty.is_none() => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize;
        if len < 8 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "packet length < 8",
            ));
        }
        let start = data.len();
        data.resize(start + len - 8, 0);
        r.read_exact(&mut data[start..]).await?;
        if data.len() > MAX_MESSAGE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "message too large",
            ));
        }
        // An Attention may arrive on its own in the middle of nothing else; its type wins.
        ty.get_or_insert(hdr[0]);
        if hdr[1] & 0x01 != 0 {
            return Ok(Some(Message {
                ty: ty.unwrap_or(hdr[0]),
                data,
            }));
        }
    }
}

/// Writes a token stream as REPLY packets of at most `packet_size` bytes; the last one carries EOM when `eom`.
pub struct PacketWriter {
    packet_size: usize,
    buf: Vec<u8>,
    packet_id: u8,
}

impl PacketWriter {
    /// A writer for the negotiated packet size (512..=32767).
    pub fn new(packet_size: usize) -> Self {
        PacketWriter {
            packet_size: packet_size.clamp(512, 32767),
            buf: Vec::new(),
            packet_id: 1,
        }
    }

    /// Changes the packet size (after LOGIN7 negotiated it).
    pub fn set_packet_size(&mut self, size: usize) {
        self.packet_size = size.clamp(512, 32767);
    }

    /// Queues token bytes and writes every full packet.
    ///
    /// # Errors
    /// Socket write errors.
    pub async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        w: &mut W,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        self.buf.extend_from_slice(bytes);
        let payload = self.packet_size - 8;
        if self.buf.len() > payload {
            let full = (self.buf.len() - 1) / payload * payload;
            let buf = std::mem::take(&mut self.buf);
            let mut out = Vec::with_capacity(full + full / payload * 8);
            for chunk in buf[..full].chunks(payload) {
                self.header(&mut out, chunk.len(), false);
                out.extend_from_slice(chunk);
            }
            self.buf = buf[full..].to_vec();
            w.write_all(&out).await?;
        }
        Ok(())
    }

    /// Writes what is queued as the final packet (EOM) and flushes.
    ///
    /// # Errors
    /// Socket write errors.
    pub async fn finish<W: AsyncWrite + Unpin>(&mut self, w: &mut W) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.buf);
        let mut out = Vec::with_capacity(rest.len() + 8);
        self.header(&mut out, rest.len(), true);
        out.extend_from_slice(&rest);
        w.write_all(&out).await?;
        w.flush().await?;
        self.packet_id = 1;
        Ok(())
    }

    /// Writes what is queued as a packet without EOM (the response stays unfinished) and flushes: used before a
    /// fault closes the connection mid-result, so the client sees the rows sent so far.
    ///
    /// # Errors
    /// Socket write errors.
    pub async fn flush_partial<W: AsyncWrite + Unpin>(&mut self, w: &mut W) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let mut out = Vec::with_capacity(rest.len() + 8);
            self.header(&mut out, rest.len(), false);
            out.extend_from_slice(&rest);
            w.write_all(&out).await?;
        }
        w.flush().await
    }

    fn header(&mut self, out: &mut Vec<u8>, len: usize, eom: bool) {
        out.push(REPLY);
        out.push(u8::from(eom));
        out.extend_from_slice(&((len + 8) as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0x33]); // SPID 51
        out.push(self.packet_id);
        out.push(0);
        self.packet_id = self.packet_id.wrapping_add(1);
    }
}

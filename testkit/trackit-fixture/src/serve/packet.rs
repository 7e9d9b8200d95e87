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
/// Packet type: SSPI message (the NTLM AUTHENTICATE of a Windows login).
pub const SSPI: u8 = 0x11;
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
    /// Token bytes not yet sent (less than one packet's payload, or the whole final packet).
    buf: Vec<u8>,
    /// Framed packets on their way to the socket (kept to reuse its allocation).
    framed: Vec<u8>,
    packet_id: u8,
}

impl PacketWriter {
    /// A writer for the negotiated packet size (512..=32767).
    pub fn new(packet_size: usize) -> Self {
        PacketWriter {
            packet_size: packet_size.clamp(512, 32767),
            buf: Vec::new(),
            framed: Vec::new(),
            packet_id: 1,
        }
    }

    /// Changes the packet size (after LOGIN7 negotiated it).
    pub fn set_packet_size(&mut self, size: usize) {
        self.packet_size = size.clamp(512, 32767);
    }

    /// Queues token bytes and writes every full packet (all of them in one socket write), keeping back the last
    /// 1..=payload bytes for the packet that [`finish`](Self::finish) marks EOM.
    ///
    /// # Errors
    /// Socket write errors.
    pub async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        w: &mut W,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let payload = self.packet_size - 8;
        let total = self.buf.len() + bytes.len();
        if total <= payload {
            self.buf.extend_from_slice(bytes);
            return Ok(());
        }
        // Frame the queued bytes followed by `bytes` without first joining them.
        let full = (total - 1) / payload * payload;
        let mut framed = std::mem::take(&mut self.framed);
        framed.clear();
        framed.reserve(full + full / payload * 8);
        let head = std::mem::take(&mut self.buf);
        let mut pos = 0;
        while pos < full {
            self.header(&mut framed, payload, false);
            let h = pos.min(head.len());
            let from_head = (head.len() - h).min(payload);
            framed.extend_from_slice(&head[h..h + from_head]);
            let q = (pos + from_head).saturating_sub(head.len());
            framed.extend_from_slice(&bytes[q..q + payload - from_head]);
            pos += payload;
        }
        let mut rest = head;
        if full < rest.len() {
            rest.drain(..full);
            rest.extend_from_slice(bytes);
        } else {
            let q = full - rest.len();
            rest.clear();
            rest.extend_from_slice(&bytes[q..]);
        }
        self.buf = rest;
        let res = w.write_all(&framed).await;
        self.framed = framed;
        res
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_carry_the_token_bytes_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut sent = Vec::new();
        let mut expect = Vec::new();
        let mut pw = PacketWriter::new(512);
        rt.block_on(async {
            for (i, n) in [1usize, 503, 1, 504, 505, 2000, 0, 17, 4096, 3]
                .iter()
                .enumerate()
            {
                let chunk: Vec<u8> = (0..*n).map(|k| (k * 7 + i) as u8).collect();
                expect.extend_from_slice(&chunk);
                pw.write(&mut sent, &chunk).await.unwrap();
            }
            pw.finish(&mut sent).await.unwrap();
        });
        let mut got = Vec::new();
        let mut rest = &sent[..];
        let mut id = 1u8;
        while !rest.is_empty() {
            let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
            let last = rest[1] == 1;
            assert_eq!(rest[6], id);
            assert!(len <= 512 && (last || len == 512));
            got.extend_from_slice(&rest[8..len]);
            rest = &rest[len..];
            assert_eq!(last, rest.is_empty());
            id = id.wrapping_add(1);
        }
        assert_eq!(got, expect);
    }
}

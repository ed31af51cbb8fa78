//! A minimal ZIP writer (stored entries, no compression) for data-access exports, and the CRC-32
//! that ZIP and PNG share.

/// CRC-32 (IEEE 802.3), as ZIP and PNG use it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Builds a ZIP archive of `(name, bytes)` entries, stored as they are.
pub fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let crc = crc32(data);
        let offset = out.len() as u32;
        let name = name.as_bytes();
        let size = data.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // needed to extract
            h.extend(0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend(0u16.to_le_bytes()); // stored
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x5b21u16.to_le_bytes()); // date 2025-09-01
            h.extend(crc.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend(0u16.to_le_bytes()); // comment
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name);
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(data);
        central.extend(header(0x0201_4b50, true));
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(central_size.to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Reads back the entries of an archive written by `zip` (tests and the export check).
pub fn unzip(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    let u16_at = |i: usize| -> Result<usize, String> {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
            .ok_or_else(|| "truncated archive".to_string())
    };
    let u32_at = |i: usize| -> Result<usize, String> {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| "truncated archive".to_string())
    };
    while u32_at(at)? == 0x0403_4b50 {
        let size = u32_at(at + 18)?;
        let name_len = u16_at(at + 26)?;
        let extra = u16_at(at + 28)?;
        let name_start = at + 30;
        let data_start = name_start + name_len + extra;
        let name = String::from_utf8(
            bytes
                .get(name_start..name_start + name_len)
                .ok_or("truncated")?
                .to_vec(),
        )
        .map_err(|_| "name is not UTF-8")?;
        let data = bytes
            .get(data_start..data_start + size)
            .ok_or("truncated")?
            .to_vec();
        if crc32(&data) as usize != u32_at(at + 14)? {
            return Err(format!("{name}: checksum mismatch"));
        }
        entries.push((name, data));
        at = data_start + size;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_round_trip() {
        let entries = vec![
            ("candidate.json".to_string(), b"{\"a\":1}".to_vec()),
            ("reports/1-report.pdf".to_string(), vec![0u8, 1, 2, 255]),
        ];
        let z = zip(&entries);
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(unzip(&z).unwrap(), entries);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }
}

//! Background checks: partners (connect once) and catalogs, orders through durable jobs, and the
//! partner's result webhooks — one module each.
mod orders;
mod partners;
mod results;

pub use orders::*;
pub use partners::*;
pub use results::*;

#[cfg(test)]
mod tests {
    use super::partners::LOGO_MAX_SIDE;
    use super::results::safe_link;
    use super::*;

    /// A `w`×`h` grey PNG from the `png` encoder.
    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![0u8; (w * h) as usize])
            .unwrap();
        writer.finish().unwrap();
        out
    }

    pub fn tiny_png() -> Vec<u8> {
        png_of(1, 1)
    }

    #[test]
    fn real_pngs_pass_and_others_are_named() {
        assert_eq!(check_png(&tiny_png()), Ok((1, 1)));
        assert!(check_png(b"GIF89a....").unwrap_err().contains("not a PNG"));
        let mut bad_crc = tiny_png();
        bad_crc[20] ^= 1;
        assert!(check_png(&bad_crc).unwrap_err().contains("checksum"));
        let cut = tiny_png()[..40].to_vec();
        assert!(check_png(&cut).unwrap_err().contains("cut short"));
        let no_end = tiny_png()[..tiny_png().len() - 12].to_vec();
        assert!(check_png(&no_end).unwrap_err().contains("cut short"));
        assert_eq!(check_png(&png_of(300, 40)), Ok((300, 40)));
        assert!(check_png(&png_of(LOGO_MAX_SIDE + 1, 1))
            .unwrap_err()
            .contains("pixels"));
        let mut big = tiny_png();
        big.resize(LOGO_MAX_BYTES + 1, 0);
        assert!(check_png(&big).unwrap_err().contains("limit"));
    }

    #[test]
    fn partner_input_is_checked() {
        let ok = PartnerInput {
            name: "Acme".into(),
            catalog_url: "https://acme.example/catalog".into(),
            orders_url: "https://acme.example/orders".into(),
            account_id: "ACCT1".into(),
            api_secret: "s".into(),
            logo_png: Some(tiny_png()),
        };
        assert_eq!(ok.validate(), Ok(()));
        let mut bad = ok.clone();
        bad.orders_url = "ftp://x".into();
        assert!(bad.validate().unwrap_err().contains("Orders URL"));
        let mut bad = ok.clone();
        bad.api_secret.clear();
        assert!(bad.validate().unwrap_err().contains("secret"));
        let mut bad = ok;
        bad.logo_png = Some(b"nope".to_vec());
        assert!(bad.validate().unwrap_err().starts_with("Logo:"));
    }

    #[test]
    fn only_web_links_are_shown() {
        assert_eq!(
            safe_link(Some("https://p.example/r/1".into())).as_deref(),
            Some("https://p.example/r/1")
        );
        assert_eq!(safe_link(Some("javascript:alert(1)".into())), None);
    }
}

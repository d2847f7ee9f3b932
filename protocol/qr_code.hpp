#pragma once
// The QR code FortiCare returns with each provisioned token (`qr_code`, docs/protocol.md §4.4):
// a base64 PNG, 1-bit grayscale, whose QR code holds the user's activation code [seen]. Made with
// libqrencode and written with libpng; not byte-identical to FortiCare's PNG, but any reader (the
// tests use zbar) decodes the same code.

#include <string>
#include <string_view>

namespace fortisim::protocol {

/// A PNG (raw bytes) of a QR code holding `text`: black modules of `module_px` pixels on a white
/// quiet zone of 4 modules. Empty if `text` cannot be encoded.
std::string qr_png(std::string_view text, int module_px = 5);

}  // namespace fortisim::protocol

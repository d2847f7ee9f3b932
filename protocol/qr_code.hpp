#pragma once
// The QR code FortiCare returns with each provisioned token (`qr_code`, docs/protocol.md §4.4):
// a base64 PNG whose QR code holds the user's activation code [seen]. Drawn as the captured one
// is: the modules of qr_modules.hpp (level Q, the ISO mask), 6 pixels each, on an 8-pixel white
// border, 1-bit grayscale, unfiltered rows; for the captured code, the captured pixels exactly.

#include <string>
#include <string_view>

namespace fortisim::protocol {

/// A PNG (raw bytes) of a QR code holding `text`: dark modules of `module_px` pixels on a white
/// border of `border_px`. Empty if `text` cannot be encoded, `module_px` is under 1 or
/// `border_px` under 0.
std::string qr_png(std::string_view text, int module_px = 6, int border_px = 8);

/// The same PNG into `out`, whose storage (and the thread's working room) is reused: no
/// allocation of its own once warm, only the libraries'. False (and `out` empty) where the above
/// is empty.
bool qr_png(std::string_view text, std::string& out, int module_px = 6, int border_px = 8);

}  // namespace fortisim::protocol

#pragma once
// The modules of a QR code as ISO/IEC 18004 draws them, and as FortiCare's captured code has
// them: libqrencode's level-Q symbol, re-masked with the mask of the lowest penalty (§7.8.3).
// (libqrencode scores the masks otherwise: for the captured code it picks mask 7, FortiCare 0.)

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fortisim::protocol {

/// A square of modules, row by row: 1 for dark.
struct qr_symbol {
  int width = 0;
  int mask = 0;  ///< the mask pattern chosen, 0-7
  std::vector<std::uint8_t> dark;
  bool at(int y, int x) const { return dark[static_cast<std::size_t>(y * width + x)] != 0; }
};

/// `text` at error correction level Q in the smallest version that holds it, with the ISO mask or
/// the `mask` given; width 0 if it cannot be encoded.
qr_symbol qr_modules(std::string_view text, std::optional<int> mask = std::nullopt);

/// The same, into `out`, whose storage (and the thread's working room) is reused: no allocation
/// of its own once warm, only libqrencode's.
void qr_modules(std::string_view text, qr_symbol& out, std::optional<int> mask = std::nullopt);

/// The penalty ISO/IEC 18004 §7.8.3.1 gives a symbol (N1 runs, N2 blocks, N3 finder-like
/// patterns, N4 dark proportion): the mask with the lowest is chosen, the first of equals.
int qr_penalty(const qr_symbol& s);

}  // namespace fortisim::protocol

// protocol/qr_code and qr_modules: the QR image FortiCare returns, pixel for pixel as captured.
#include "protocol/qr_code.hpp"
#include "protocol/qr_modules.hpp"
#include "protocol/seed_crypto.hpp"

#include "../support/fixtures.hpp"

#include <doctest/doctest.h>
#include <png.h>

#include <string>
#include <vector>

using namespace fortisim::protocol;

namespace {

/// A PNG's pixels as 8-bit gray, read by libpng's simplified API; its size in `side`.
std::vector<png_byte> pixels(const std::string& png_bytes, png_uint_32& side, png_byte& bit_depth) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_memory(&image, png_bytes.data(), png_bytes.size()) != 0);
  REQUIRE(image.width == image.height);
  side = image.width;
  image.format = PNG_FORMAT_GRAY;
  std::vector<png_byte> out(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, out.data(), 0, nullptr) != 0);
  bit_depth = static_cast<png_byte>(png_bytes[24]);  // IHDR's bit depth
  return out;
}

}  // namespace

TEST_SUITE("protocol") {

TEST_CASE("the QR code of the 7.4.10 capture: level Q, mask 0, 6-pixel modules, an 8-pixel border, its pixels") {
  auto captured = base64_decode(fortisim::test::provision_7410_qr_code);
  REQUIRE(captured.has_value());
  auto ours = qr_png("EEIAI6ZLEYIRKOYV");
  png_uint_32 side_captured = 0, side_ours = 0;
  png_byte depth_captured = 0, depth_ours = 0;
  auto want = pixels(*captured, side_captured, depth_captured);
  auto got = pixels(ours, side_ours, depth_ours);
  CHECK(side_captured == 142);
  CHECK(side_ours == 142);
  CHECK(depth_ours == depth_captured);  // 1 bit
  CHECK(ours[25] == (*captured)[25]);   // grayscale
  CHECK(got == want);                   // every pixel
  CHECK(ours.size() == 246);            // libpng's deflate stream, as docs/protocol.md says (the capture: 249)
  auto symbol = qr_modules("EEIAI6ZLEYIRKOYV");
  CHECK(symbol.width == 21);                     // version 1
  CHECK(symbol.mask == 0);                       // libqrencode's own choice would be 7
  CHECK(qr_png("EEIAI6ZLEYIRKOYV", 0).empty());  // no pixels to draw a module with
  CHECK(qr_png("EEIAI6ZLEYIRKOYV", 6, -1).empty());
}

TEST_CASE("the mask is the one of the lowest ISO/IEC 18004 penalty, and the code still reads") {
  for (std::string text : {"EEIAI6ZLEYIRKOYV", "AAAAAAAAAAAAAAAA", "7777777777777777", "HELLO WORLD"}) {
    CAPTURE(text);
    auto chosen = qr_modules(text);
    REQUIRE(chosen.width > 0);
    for (int k = 0; k < 8; ++k) {
      auto other = qr_modules(text, k);
      CHECK(other.mask == k);
      CHECK(other.width == chosen.width);
      // Lower for none; equal only for a later mask (the first of equals wins).
      CHECK((qr_penalty(other) > qr_penalty(chosen) || (qr_penalty(other) == qr_penalty(chosen) && k >= chosen.mask)));
    }
    CHECK(qr_modules(text, chosen.mask).dark == chosen.dark);
  }
  // The penalty rules on a small known symbol: all light, 21 x 21.
  qr_symbol light{21, 0, std::vector<std::uint8_t>(21 * 21, 0)};
  // N1: 42 lines, each one run of 21: 3 + 16 each; N2: 20 x 20 blocks of 3; N3: none; N4: 50% off, 100.
  CHECK(qr_penalty(light) == 42 * 19 + 400 * 3 + 100);
}

TEST_CASE("the penalty of finder-like patterns at the edges, worked by hand") {
  // All light but two 1:1:3:1:1 patterns that run into the edge, which counts as light: across
  // row 10 from column 0, and down column 5 to the last row.
  qr_symbol s{21, 0, std::vector<std::uint8_t>(21 * 21, 0)};
  for (int x : {0, 2, 3, 4, 6}) s.dark[static_cast<std::size_t>(10 * 21 + x)] = 1;
  for (int y : {14, 16, 17, 18, 20}) s.dark[static_cast<std::size_t>(y * 21 + 5)] = 1;
  // N1 (3 for a run of five, 1 more a module beyond). Rows: 15 all light (19 each), the five
  // crossing column 5 (runs of 5 and 15), row 10 (its run of 14). Columns: 15 all light, the five
  // crossing row 10 (two runs of 10), column 5 (its run of 14).
  int n1 = (15 * 19 + 5 * (3 + 13) + 12) + (15 * 19 + 5 * (8 + 8) + 12);
  // N2: of 400 2x2 blocks, 14 touch row 10's dark modules and 14 column 5's; 372 are one colour.
  int n2 = 372 * 3;
  int n3 = 2 * 40;
  int n4 = (441 - 2 * 10) * 10 / 441 * 10;  // 10 dark of 441: 9 whole steps of 5% from half
  CHECK(qr_penalty(s) == n1 + n2 + n3 + n4);
}

}  // TEST_SUITE

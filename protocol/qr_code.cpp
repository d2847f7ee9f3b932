#include "protocol/qr_code.hpp"

#include <png.h>
#include <qrencode.h>

#include <memory>
#include <vector>

namespace fortisim::protocol {

namespace {

constexpr int quiet_zone = 4;  // modules of white around the code (ISO/IEC 18004)

void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

/// One row of 1-bit pixels (MSB first; 0 is black in grayscale) for QR row `y` (-quiet_zone to
/// width + quiet_zone - 1).
std::vector<png_byte> pixel_row(const QRcode& qr, int y, int module_px) {
  int side = (qr.width + 2 * quiet_zone) * module_px;
  std::vector<png_byte> row(static_cast<std::size_t>((side + 7) / 8), 0xff);
  if (y < 0 || y >= qr.width) return row;
  for (int x = 0; x < qr.width; ++x) {
    if (!(qr.data[y * qr.width + x] & 1)) continue;  // bit 0: a dark module
    for (int i = 0; i < module_px; ++i) {
      int px = (x + quiet_zone) * module_px + i;
      row[static_cast<std::size_t>(px / 8)] &= static_cast<png_byte>(~(0x80 >> (px % 8)));
    }
  }
  return row;
}

}  // namespace

std::string qr_png(std::string_view text, int module_px) {
  std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                     &QRcode_free);
  if (!qr) return {};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  std::string out;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return {};
  }
  auto side = static_cast<png_uint_32>((qr->width + 2 * quiet_zone) * module_px);
  png_set_write_fn(png, &out, append_to_string, nullptr);
  png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = -quiet_zone; y < qr->width + quiet_zone; ++y) {
    auto row = pixel_row(*qr, y, module_px);
    for (int i = 0; i < module_px; ++i) png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace fortisim::protocol

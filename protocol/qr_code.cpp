#include "protocol/qr_code.hpp"

#include "protocol/qr_modules.hpp"

#include <png.h>

#include <vector>

namespace fortisim::protocol {

namespace {

void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

/// The pixel rows of module row `y` (all alike), 1 bit a pixel, most significant first, 0 black
/// in grayscale; `y` outside the symbol draws the border's white row.
void pixel_row(const qr_symbol& s, int y, int module_px, int border_px, std::vector<png_byte>& row) {
  int side = s.width * module_px + 2 * border_px;
  row.assign(static_cast<std::size_t>((side + 7) / 8), 0xff);
  if (side % 8 != 0) row.back() = static_cast<png_byte>(0xff << (8 - side % 8));  // padding bits 0, as captured
  if (y < 0 || y >= s.width) return;
  for (int x = 0; x < s.width; ++x)
    if (s.at(y, x))
      for (int px = border_px + x * module_px; px < border_px + (x + 1) * module_px; ++px)
        row[static_cast<std::size_t>(px / 8)] &= static_cast<png_byte>(~(0x80 >> (px % 8)));
}

}  // namespace

std::string qr_png(std::string_view text, int module_px, int border_px) {
  std::string out;
  out.reserve(1024);  // the PNG of a short code (the captured one is 249 bytes)
  qr_png(text, out, module_px, border_px);
  return out;
}

bool qr_png(std::string_view text, std::string& out, int module_px, int border_px) {
  out.clear();
  if (module_px < 1 || border_px < 0) return false;
  thread_local qr_symbol s;  // kept for the next code, as are the row and the symbol's room
  thread_local std::vector<png_byte> row;
  qr_modules(text, s);
  if (s.width == 0) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info || setjmp(png_jmpbuf(png))) {  // nothing of ours to destroy: libpng's longjmp is safe
    png_destroy_write_struct(&png, &info);
    out.clear();
    return false;
  }
  int side = s.width * module_px + 2 * border_px;
  png_set_write_fn(png, &out, append_to_string, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(side), static_cast<png_uint_32>(side), 1, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);  // the captured rows are unfiltered
  // zlib's smallest tables (1 KiB, not 128 KiB allocated, touched and handed back to the kernel
  // on every reply): an image this small (under 3 KB raw) compresses as well (the captured code's
  // PNG is the same 246 bytes), in a quarter less time.
  png_set_compression_mem_level(png, 1);
  png_write_info(png, info);
  for (int py = 0, drawn = -2; py < side; ++py) {  // each module row drawn once, written module_px times
    int y = py < border_px ? -1 : (py - border_px) / module_px;
    if (y != drawn) pixel_row(s, y, module_px, border_px, row);
    drawn = y;
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace fortisim::protocol

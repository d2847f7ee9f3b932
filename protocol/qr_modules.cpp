#include "protocol/qr_modules.hpp"

#include <qrencode.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

namespace fortisim::protocol {

namespace {

constexpr int level_q = 0b11;  // the format information's bits for level Q

/// Where the first copy of the 15 format bits sits, most significant first: (row, column).
constexpr int format_cells[15][2] = {{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8},
                                     {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}};

/// Whether mask pattern `k` flips the module at row `y`, column `x` (ISO/IEC 18004 Table 10).
bool flips(int k, int y, int x) {
  switch (k) {
    case 0: return (y + x) % 2 == 0;
    case 1: return y % 2 == 0;
    case 2: return x % 3 == 0;
    case 3: return (y + x) % 3 == 0;
    case 4: return (y / 2 + x / 3) % 2 == 0;
    case 5: return (y * x) % 2 + (y * x) % 3 == 0;
    case 6: return ((y * x) % 2 + (y * x) % 3) % 2 == 0;
    default: return ((y + x) % 2 + (y * x) % 3) % 2 == 0;
  }
}

/// The 15 format bits for level Q and `mask`: BCH(15,5) with generator 0x537, XORed with 0x5412.
int format_bits(int mask) {
  int data = (level_q << 3) | mask;
  int rem = data << 10;
  for (int i = 14; i >= 10; --i)
    if ((rem >> i) & 1) rem ^= 0x537 << (i - 10);
  return ((data << 10) | rem) ^ 0x5412;
}

/// Writes both copies of the format bits, and the dark module beside the lower-left finder.
void place_format(qr_symbol& s, int bits) {
  int w = s.width;
  auto set = [&](int y, int x, bool dark) { s.dark[static_cast<std::size_t>(y * w + x)] = dark ? 1 : 0; };
  auto bit = [&](int i) { return ((bits >> (14 - i)) & 1) != 0; };  // i = 0 is the most significant
  for (int i = 0; i < 15; ++i) set(format_cells[i][0], format_cells[i][1], bit(i));
  for (int i = 0; i < 7; ++i) set(w - 1 - i, 8, bit(i));
  for (int i = 7; i < 15; ++i) set(8, w - 15 + i, bit(i));
  set(w - 8, 8, true);
}

/// The mask libqrencode applied, read back from the format bits it wrote.
int applied_mask(const qr_symbol& s) {
  int bits = 0;
  for (const auto& p : format_cells) bits = (bits << 1) | (s.at(p[0], p[1]) ? 1 : 0);
  return ((bits ^ 0x5412) >> 10) & 7;
}

/// N1 and N3 along one line of `w` modules (a row, or a column of the transposed symbol). Written
/// without branches on the modules, which are random: a mispredicted branch per module cost most.
int line_penalty(const std::uint8_t* m, int w) {
  int p = 0, run = 1;
  for (int j = 1; j < w; ++j) {
    bool same = m[j] == m[j - 1];
    p += same || run < 5 ? 0 : run - 2;  // N1: 3 for a run of five, 1 more for each module beyond
    run = same ? run + 1 : 1;
  }
  if (run >= 5) p += run - 2;
  auto light = [&](int from, int to) {  // [from, to) within the symbol; beyond it is light
    for (int j = std::max(from, 0); j < std::min(to, w); ++j)
      if (m[j]) return false;
    return true;
  };
  unsigned window = 0;  // N3: the last seven modules, 1:1:3:1:1 dark-light-dark-light-dark
  for (int j = 0; j < w; ++j) {
    window = ((window << 1) | m[j]) & 0x7f;
    if (window == 0b1011101 && (light(j - 10, j - 6) || light(j + 1, j + 5))) p += 40;
  }
  return p;
}

/// qr_penalty, with the columns written row by row into `columns` (kept for the next symbol).
int penalty(const qr_symbol& s, std::vector<std::uint8_t>& columns) {
  int w = s.width, p = 0;
  const std::uint8_t* rows = s.dark.data();
  columns.resize(s.dark.size());
  for (int y = 0; y < w; ++y)
    for (int x = 0; x < w; ++x) columns[static_cast<std::size_t>(x * w + y)] = rows[y * w + x];
  for (int i = 0; i < w; ++i) p += line_penalty(rows + i * w, w) + line_penalty(columns.data() + i * w, w);
  for (int y = 0; y + 1 < w; ++y) {  // N2: 3 for each 2x2 block of one colour
    const std::uint8_t *top = rows + y * w, *bottom = top + w;
    for (int x = 0; x + 1 < w; ++x)
      p += 3 * ((top[x + 1] == top[x]) & (bottom[x] == top[x]) & (bottom[x + 1] == top[x]));
  }
  int dark = 0;
  for (auto d : s.dark) dark += d;
  int total = w * w;
  return p + std::abs(dark * 2 - total) * 10 / total * 10;  // N4: 10 for each 5% from half
}

}  // namespace

int qr_penalty(const qr_symbol& s) {
  std::vector<std::uint8_t> columns;
  return penalty(s, columns);
}

qr_symbol qr_modules(std::string_view text, std::optional<int> mask) {
  qr_symbol out;
  qr_modules(text, out, mask);
  return out;
}

void qr_modules(std::string_view text, qr_symbol& best, std::optional<int> mask) {
  best.width = 0;
  if (mask && (*mask < 0 || *mask > 7)) return;
  thread_local std::string input;  // NUL-terminated for libqrencode; this and below kept for the next symbol
  thread_local qr_symbol plain, candidate;
  thread_local std::vector<std::uint8_t> columns;
  input.assign(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_Q, QR_MODE_8, 1),
                                                     &QRcode_free);
  if (!qr) return;
  plain.width = qr->width;
  auto cells = static_cast<std::size_t>(qr->width * qr->width);
  plain.dark.resize(cells);
  for (std::size_t i = 0; i < cells; ++i) plain.dark[i] = qr->data[i] & 1;
  // Data and error correction modules (bit 7 clear) lose libqrencode's mask...
  auto data_module = [&](int y, int x) { return (qr->data[y * qr->width + x] & 0x80) == 0; };
  int theirs = applied_mask(plain);
  for (int y = 0; y < plain.width; ++y)
    for (int x = 0; x < plain.width; ++x)
      if (data_module(y, x) && flips(theirs, y, x)) plain.dark[static_cast<std::size_t>(y * plain.width + x)] ^= 1;
  // ...and take the mask ISO/IEC 18004 chooses (or the one asked for).
  int best_penalty = 0;
  for (int k = mask.value_or(0); k < (mask ? *mask + 1 : 8); ++k) {
    candidate.width = plain.width;
    candidate.mask = k;
    candidate.dark.assign(plain.dark.begin(), plain.dark.end());
    for (int y = 0; y < candidate.width; ++y)
      for (int x = 0; x < candidate.width; ++x)
        if (data_module(y, x) && flips(k, y, x)) candidate.dark[static_cast<std::size_t>(y * candidate.width + x)] ^= 1;
    place_format(candidate, format_bits(k));
    int p = penalty(candidate, columns);
    if (best.width == 0 || p < best_penalty) {
      std::swap(best, candidate);
      best_penalty = p;
    }
  }
}

}  // namespace fortisim::protocol

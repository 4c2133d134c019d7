#pragma once
// What the record code (records.hpp) needs from a database driver: parameters to bind by
// number and a result row to read by column. The SQLite statement and the PostgreSQL parameter
// list and result row implement them, so both stores encode auctions, bids and events with the
// same code and round-trip every field the same way.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace gavel::adapters::sql {

/// A stored row that cannot be turned back into domain values (a damaged or foreign database).
class CorruptRow : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A statement's parameters, numbered from 1 (?1 in SQLite, $1 in PostgreSQL).
class Params {
 public:
  virtual void bind(int index, std::int64_t value) = 0;
  virtual void bind(int index, std::optional<std::int64_t> value) = 0;  ///< nullopt: NULL
  virtual void bind(int index, std::string_view text) = 0;
  virtual void bind_blob(int index, const std::vector<std::uint8_t>& bytes) = 0;

 protected:
  ~Params() = default;
};

/// One result row, columns numbered from 0.
class Row {
 public:
  virtual std::int64_t column_int64(int column) const = 0;
  virtual std::optional<std::int64_t> column_optional_int64(int column) const = 0;  ///< NULL
  /// Valid while the row is.
  virtual std::string_view column_text(int column) const = 0;
  virtual std::vector<std::uint8_t> column_blob(int column) const = 0;

 protected:
  ~Row() = default;
};

}  // namespace gavel::adapters::sql

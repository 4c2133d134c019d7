#include "adapters/notify/smtp_channel.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace gavel::adapters::notify {

namespace {

constexpr std::size_t kBase64Line = 76;
constexpr const char* kBoundary = "gavel-alternative-7d1f0c";

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// Base64 in lines of 76 characters, CRLF-terminated (RFC 2045).
std::string base64_lines(std::string_view bytes) {
  const std::string encoded = base64(bytes);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += kBase64Line) {
    out += encoded.substr(i, kBase64Line);
    out += "\r\n";
  }
  return out;
}

// A header value on one line: line breaks would start a new header (injection).
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// Whole UTF-8 characters per encoded word: 42 bytes make 56 base64 characters, a word
// "=?UTF-8?B?...?=" of 68, within RFC 2047's 75, and "Subject: " with it within RFC 5322's 78.
constexpr std::size_t kEncodedWordBytes = 42;

// A non-ASCII subject as RFC 2047 encoded words of whole characters, one per folded line: a
// single word for a long title would pass the 75-character limit that mail clients rely on.
std::string encoded_subject(std::string_view subject) {
  std::string line = one_line(subject);
  const bool ascii = std::all_of(line.begin(), line.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return line;
  std::string out;
  std::size_t start = 0;
  while (start < line.size()) {
    std::size_t end = std::min(start + kEncodedWordBytes, line.size());
    // Back off to a character's first byte (not 10xxxxxx), unless that leaves nothing (bytes
    // that are not UTF-8 then split anywhere).
    std::size_t cut = end;
    while (cut > start && cut < line.size() &&
           (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    if (cut > start) end = cut;
    if (!out.empty()) out += "\r\n ";  // folding: the words' whitespace is dropped on decoding
    out += "=?UTF-8?B?" + base64(std::string_view(line).substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

// "<user@example.com>" from "Name <user@example.com>" or a bare address.
std::string angle_address(const std::string& mailbox) {
  const auto open = mailbox.find('<');
  const auto close = mailbox.find('>', open);
  if (open != std::string::npos && close != std::string::npos) {
    return mailbox.substr(open, close - open + 1);
  }
  return "<" + mailbox + ">";
}

std::string rfc5322_date(domain::Timestamp at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(at));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return text;
}

// The notice id made safe for a Message-ID's left part.
std::string message_id(const ports::Notice& notice) {
  std::string id;
  for (const char c : notice.id) {
    id += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ? c : '.';
  }
  return "<" + id + "@gavel.notifications>";
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::copy_n(upload->data.data() + upload->offset, n, buffer);
  upload->offset += n;
  return n;
}

}  // namespace

std::string mime_message(const ports::Notice& notice, const std::string& from,
                         domain::Timestamp at) {
  std::string message;
  message += "Date: " + rfc5322_date(at) + "\r\n";
  message += "From: " + one_line(from) + "\r\n";
  message += "To: " + angle_address(one_line(notice.address)) + "\r\n";
  message += "Subject: " + encoded_subject(notice.subject) + "\r\n";
  message += "Message-ID: " + message_id(notice) + "\r\n";
  message += "MIME-Version: 1.0\r\n";
  message +=
      std::string("Content-Type: multipart/alternative; boundary=\"") + kBoundary + "\"\r\n\r\n";
  for (const auto& [type, body] :
       {std::pair{"text/plain", &notice.text}, std::pair{"text/html", &notice.html}}) {
    message += std::string("--") + kBoundary + "\r\n";
    message += std::string("Content-Type: ") + type + "; charset=UTF-8\r\n";
    message += "Content-Transfer-Encoding: base64\r\n\r\n";
    message += base64_lines(*body);
  }
  message += std::string("--") + kBoundary + "--\r\n";
  return message;
}

SmtpChannel::SmtpChannel(ports::Clock& clock, SmtpOptions options)
    : clock_(clock), options_(std::move(options)) {
  if (!options_.server_url.starts_with("smtp://") && !options_.server_url.starts_with("smtps://")) {
    throw std::invalid_argument("the SMTP server URL must be smtp:// or smtps://, not '" +
                                options_.server_url + "'");
  }
  if (options_.from.find_first_of("\r\n") != std::string::npos) {
    throw std::invalid_argument("the From address must be on one line");
  }
}

void SmtpChannel::send(ports::Notice notice, ports::Callback<void> done) {
  if (notice.address.empty() || notice.address.find_first_of("\r\n<>") != std::string::npos) {
    done(ports::Error{ports::ErrorKind::permanent, "no usable e-mail address"});
    return;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};
  if (!curl) {
    done(ports::Error{ports::ErrorKind::retryable, "curl_easy_init failed"});
    return;
  }
  const std::string message = mime_message(notice, options_.from, clock_.now());
  Upload upload{message};
  const std::string recipient = "<" + notice.address + ">";
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> recipients{
      curl_slist_append(nullptr, recipient.c_str()), &curl_slist_free_all};
  const std::string mail_from = angle_address(options_.from);
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, options_.server_url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      handle, CURLOPT_USE_SSL,
      options_.require_tls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_TRY));
  if (!options_.username.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) {
    done({});
    return;
  }
  long reply = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
  const bool permanent = code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL ||
                         code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED || reply >= 500;
  std::string why = "SMTP " + options_.server_url + ": " + curl_easy_strerror(code);
  if (reply != 0) why += " (reply " + std::to_string(reply) + ")";
  done(ports::Error{permanent ? ports::ErrorKind::permanent : ports::ErrorKind::retryable, why});
}

}  // namespace gavel::adapters::notify

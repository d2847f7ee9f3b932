#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

namespace fortisim::test {

const std::string captured_request =
    R"({"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}})";
const std::string captured_reply =
    R"({"d":{"__type":"SoftToken.ActivationLicenseResponse","__version":"4","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0E5819900260","error":null},{"sn":"FG4H0ETB20900993","error":null}],"license_activation_code":"DA8C-0508-1F31-4CF7-C990","license":"","tokens":null,"result":0,"error":{"error_code":14,"error_message":"forticare license expired"}}})";

std::string fortigate_headers(std::size_t length) {
  return "POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\n"
         "Accept: application/json, text/javascript, */*, q=0.01\r\n"
         "Content-Type: application/json;charset=utf-8\r\n"
         "X-Requested-With: XMLHttpRequest\r\n"
         "Accept-Language: en-us\r\n"
         "Accept-Encoding: gzip, deflate\r\n"
         "User-Agent: Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0)\r\n"
         "Host: fortinet-ca2.fortinet.com\r\n"
         "Content-Length: " +
         std::to_string(length) +
         "\r\n"
         "Connection: Keep-Alive\r\n"
         "Cache-Control: no-cache\r\n\r\n";
}

const std::string provision_7410_request =
    R"({ "d": { "__type": "SoftToken.ProvisionRequest", "__version": "4", "__device_version": "7.0", "__device_build": "5309", "serial_number": "FGT40FHA25099UXR", "__clustered_sns": [ { "sn": "FGT40FHA25099UXR" } ], "tokens": [ { "token": "FTKMOB5CA3C29179", "seed": "FC8CEE4B56D93C40D590ACBB958840AF2FE76117", "code_expire": 4320, "type": "totp", "period": 60, "digits": 6 } ] } })";
const std::string provision_7410_reply =
    R"({"d":{"__type":"SoftToken.ProvisionResponse","__version":"4","serial_number":"FGT40FHA25099UXR","__device_version":"7.0","__device_build":"5309","__clustered_sns":[{"sn":"FGT40FHA25099UXR","error":null}],"tokens":[{"token":"FTKMOB5CA3C29179","license":"EFTM025131062955","token_activation_code":"EEIAI6ZLEYIRKOYV","qr_code":"QR","code_expire":4320,"error":null}],"result":2,"error":null}})";
const std::string provision_7410_qr_code =
    "iVBORw0KGgoAAAANSUhEUgAAAI4AAACOAQAAAADPhg2lAAAAwElEQVR4Ac2V0Q2DIQiETRzAkVzdkRyAhHKgbfX9iMQ0+PXhP/"
    "GEonfII6ggetVRJ7LKR9U+PDs2s1uagSY28Qs1aUiHJqPMM3qhpeldexpaZnIdp79YKCIUHG+"
    "IhgQKirh9lwg6KnCS7oSPFMb1EpufrDVkIPPTsGUidIugop99v1dLRstM8cdhXxaKB4NCO01AkaHEPlE0Ae3GtzpRFpI2bB0iyCjoLjQZxY36saGDj"
    "8JM1hcwMtvfOKGhO95AH2sw5qKf9T6VAAAAAElFTkSuQmCC";
const std::string kb308115_request =
    R"({ "d": { "__type": "SoftToken.ProvisionRequest", "__version": "4", "__device_version": "7.0", "__device_build": "2573", "serial_number": "FG140E4Q17000494", "__clustered_sns": [ { "sn": "FG140E4Q17000494" }, { "sn": "FG140E4Q17000407" } ], "tokens": [ { "token": "FTKMOB947FDC1754", "seed": "A84E2CAAD3BCEA970E05DC1A9B7BD2D562622F4A", "code_expire": 4320, "type": "totp", "period": 60, "digits": 6 } ] } })";
const std::string kb308115_reply =
    R"({"d":{"__type":"SoftToken.ProvisionResponse","__version":"4","serial_number":"FG140E4Q17000494","__device_version":"7.0","__device_build":"2573","__clustered_sns":[{"sn":"FG140E4Q17000407","error":"Product is not registered"},{"sn":"FG140E4Q17000494","error":null}],"tokens":[{"token":"FTKMOB947FDC1754","license":null,"token_activation_code":null,"qr_code":null,"code_expire":null,"error":{"error_code":31,"error_message":"token does not belong to product"}}],"result":0,"error":{"error_code":17,"error_message":"no valid token found"}}})";

std::shared_ptr<const core::scenario> scenario_from(const std::string& json_text) {
  auto r = core::parse_scenario(json_text, "test scenario");
  INFO(r.describe());
  REQUIRE(r.value.has_value());
  return std::make_shared<const core::scenario>(std::move(*r.value));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shipped(const std::string& name) {
  return read_file(std::string(FORTISIM_SOURCE_DIR) + "/scenarios/" + name);
}

std::string import_request(const std::string& code, const std::string& serial, std::vector<std::string> members) {
  protocol::json d{{"__type", "SoftToken.ActivationLicenseRequest"},
                   {"__version", "4"},
                   {"license_activation_code", code},
                   {"serial_number", serial},
                   {"__device_version", "7.2"},
                   {"__device_build", "1234"}};
  auto sns = protocol::json::array();
  for (const auto& m : members) sns.push_back({{"sn", m}});
  d["__clustered_sns"] = sns;
  return protocol::json{{"d", d}}.dump();
}

}  // namespace fortisim::test

#include "base/file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/status_matchers.h"

namespace certdeploy {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/certdeploy-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(FileTest, ReadsWholeFileAndEnforcesLimit) {
  std::string path = Write("a.bin", std::string("\0\1abc", 5));
  Result<std::string> r = ReadFile(path);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, std::string("\0\1abc", 5));
  EXPECT_THAT(ReadFile(path, 4), StatusIs(StatusCode::kInvalidArgument, HasSubstr("larger than 4")));
}

TEST_F(FileTest, MissingFileIsNotFoundAndNamesPath) {
  EXPECT_THAT(ReadFile(dir_ + "/nope"), StatusIs(StatusCode::kNotFound, HasSubstr("/nope")));
  EXPECT_THAT(ReadFile(dir_), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(FileTest, SecretFileStripsOneTrailingNewline) {
  EXPECT_EQ(ReadSecretFile(Write("p1", "pw\n"))->RevealAsString(), "pw");
  EXPECT_EQ(ReadSecretFile(Write("p2", "pw\r\n"))->RevealAsString(), "pw");
  EXPECT_EQ(ReadSecretFile(Write("p3", "pw \n\n"))->RevealAsString(), "pw \n");
  EXPECT_THAT(ReadSecretFile(Write("p4", "\n")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(FileTest, SecretEnvMustBeSetAndNonEmpty) {
  setenv("CERTDEPLOY_TEST_SECRET", "s3cret", 1);
  EXPECT_EQ(ReadSecretEnv("CERTDEPLOY_TEST_SECRET")->RevealAsString(), "s3cret");
  setenv("CERTDEPLOY_TEST_SECRET", "", 1);
  EXPECT_THAT(ReadSecretEnv("CERTDEPLOY_TEST_SECRET"), StatusIs(StatusCode::kInvalidArgument));
  unsetenv("CERTDEPLOY_TEST_SECRET");
  EXPECT_THAT(ReadSecretEnv("CERTDEPLOY_TEST_SECRET"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not set")));
}

TEST_F(FileTest, AtomicWriteReplacesAndSetsMode) {
  std::string path = dir_ + "/out.json";
  ASSERT_THAT(WriteFileAtomic(path, "one", 0600), IsOk());
  ASSERT_THAT(WriteFileAtomic(path, "two", 0600), IsOk());
  EXPECT_EQ(*ReadFile(path), "two");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator{}),
            1) << "no temporary file left behind";
  EXPECT_THAT(WriteFileAtomic(dir_ + "/missing/x", "y"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace certdeploy

// The one-line shape syntax: accepted forms, defaults, and errors that name
// the bad field. Target-independent (no kernel runs), so not per target.
#include <string>

#include "convkit/convkit.h"
#include "gtest/gtest.h"

namespace convkit {
namespace {

TEST(SpecTest, FullAndDefaults) {
  Conv2dDesc d;
  ASSERT_TRUE(ParseShapeSpec("n=1,h=56,w=56,ci=64,co=64,k=3x3,s=1,p=1,d=1,g=1", &d).ok());
  EXPECT_EQ(1, d.batch);
  EXPECT_EQ(56, d.in_h);
  EXPECT_EQ(56, d.in_w);
  EXPECT_EQ(64, d.in_channels);
  EXPECT_EQ(64, d.out_channels);
  EXPECT_EQ(3, d.kernel_h);
  EXPECT_EQ(3, d.kernel_w);
  EXPECT_EQ(1, d.pad_top);
  EXPECT_EQ(1, d.pad_bottom);
  EXPECT_EQ(1, d.pad_left);
  EXPECT_EQ(1, d.pad_right);
  EXPECT_FALSE(d.has_bias);

  ASSERT_TRUE(ParseShapeSpec(" h=5 , w=7,ci=3,co=4,k=1x7 ", &d).ok());
  EXPECT_EQ(1, d.batch);
  EXPECT_EQ(1, d.kernel_h);
  EXPECT_EQ(7, d.kernel_w);
  EXPECT_EQ(1, d.stride_h);
  EXPECT_EQ(1, d.stride_w);
  EXPECT_EQ(0, d.pad_top + d.pad_bottom + d.pad_left + d.pad_right);
  EXPECT_EQ(1, d.dilation_h);
  EXPECT_EQ(1, d.dilation_w);
  EXPECT_EQ(1, d.groups);
}

TEST(SpecTest, PairsAndPadding) {
  Conv2dDesc d;
  ASSERT_TRUE(ParseShapeSpec("h=9,w=9,ci=2,co=2,k=3,s=2x1,d=2x2,p=0x3,bias=1", &d).ok());
  EXPECT_EQ(3, d.kernel_h);
  EXPECT_EQ(3, d.kernel_w);
  EXPECT_EQ(2, d.stride_h);
  EXPECT_EQ(1, d.stride_w);
  EXPECT_EQ(2, d.dilation_h);
  EXPECT_EQ(2, d.dilation_w);
  EXPECT_EQ(0, d.pad_top);
  EXPECT_EQ(0, d.pad_bottom);
  EXPECT_EQ(3, d.pad_left);
  EXPECT_EQ(3, d.pad_right);
  EXPECT_TRUE(d.has_bias);
  ASSERT_TRUE(ParseShapeSpec("h=9,w=9,ci=2,co=2,k=3,p=1:2:0:3", &d).ok());
  EXPECT_EQ(1, d.pad_top);
  EXPECT_EQ(2, d.pad_bottom);
  EXPECT_EQ(0, d.pad_left);
  EXPECT_EQ(3, d.pad_right);
}

TEST(SpecTest, FormatRoundTrips) {
  Conv2dDesc d;
  const std::string spec = "n=2,h=5,w=7,ci=6,co=4,k=3x2,s=2x1,p=1:0:2:3,d=1x2,g=2,bias=1";
  ASSERT_TRUE(ParseShapeSpec(spec, &d).ok());
  EXPECT_EQ(spec, FormatShapeSpec(d));
  const std::string strided = "n=1,h=4,w=4,ci=8,co=16,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1,xps=24,yps=40";
  ASSERT_TRUE(ParseShapeSpec(strided, &d).ok());
  EXPECT_EQ(24, d.in_pixel_stride);
  EXPECT_EQ(40, d.out_pixel_stride);
  EXPECT_EQ(strided, FormatShapeSpec(d));
}

TEST(SpecTest, ErrorsNameTheField) {
  const struct {
    const char* spec;
    const char* field;
  } cases[] = {
      {"h=5,w=5,ci=3,co=4", "k"},            // missing required
      {"w=5,ci=3,co=4,k=3", "h"},
      {"h=5,ci=3,co=4,k=3", "w"},
      {"h=5,w=5,co=4,k=3", "ci"},
      {"h=5,w=5,ci=3,k=3", "co"},
      {"h=5,w=5,ci=3,co=4,k=3y3", "k"},      // malformed values
      {"h=5,w=5,ci=3,co=4,k=3x", "k"},
      {"h=5,w=5,ci=3,co=4,k=3,s=a", "s"},
      {"h=5,w=5,ci=3,co=4,k=3,p=1:2:3", "p"},
      {"h=5,w=5,ci=3,co=4,k=3,d=1x2x3", "d"},
      {"h=5,w=5,ci=3,co=4,k=3,g=1.5", "g"},
      {"h=5,w=5,ci=3,co=4,k=3,n=", "n"},
      {"h=5,w=5,ci=3,co=4,k=3,bias=2", "bias"},
      {"h=5,w=5,ci=3,co=4,k=3,xps=x", "xps"},
      {"h=5,w=5,ci=3,co=4,k=3,yps=", "yps"},
      {"h=5,w=5,ci=3,co=4,k=3,q=1", "q"},    // unknown field
      {"h=5,h=6,w=5,ci=3,co=4,k=3", "h"},    // duplicate
      {"h=99999999999999999999,w=5,ci=3,co=4,k=3", "h"},  // out of range
  };
  for (const auto& c : cases) {
    Conv2dDesc d;
    d.in_h = 777;
    const Status s = ParseShapeSpec(c.spec, &d);
    EXPECT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(StatusCode::kInvalidArgument, s.code()) << c.spec;
    EXPECT_EQ(c.field, s.field()) << c.spec << ": " << s.message();
    EXPECT_NE(std::string::npos, s.message().find(std::string("\"") + c.field + "\""))
        << s.message();
    EXPECT_EQ(777, d.in_h) << "desc modified on error: " << c.spec;
  }
  Conv2dDesc d;
  EXPECT_FALSE(ParseShapeSpec("", &d).ok());
  EXPECT_FALSE(ParseShapeSpec("h=1,w=1,ci=1,co=1,k=1", nullptr).ok());
}

// Syntax is separate from validity: a well-formed spec can still describe an
// invalid convolution, which Validate reports.
TEST(SpecTest, ParsedButInvalid) {
  Conv2dDesc d;
  ASSERT_TRUE(ParseShapeSpec("h=5,w=5,ci=3,co=4,k=3,s=0", &d).ok());
  EXPECT_EQ("stride_h", Validate(d).field());
}

}  // namespace
}  // namespace convkit

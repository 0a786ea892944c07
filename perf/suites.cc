// The built-in suites. Network layers are listed once per distinct shape, at
// batch 1, 224x224 inputs, with PyTorch's (torchvision's) paddings and a bias
// (inference with batch norm folded in).
#include "perf/suites.h"

namespace convkit {
namespace perf {
namespace {

// The notebooks' shapes (../shared/seeds), in NHWC.
const std::vector<SuiteShape> kSeeds = {
    {"seeds:000 4x8x8x3->4 3x3", "n=4,h=8,w=8,ci=3,co=4,k=3x3"},
    {"seeds:003 10x32x32x8->16 3x3", "n=10,h=32,w=32,ci=8,co=16,k=3x3"},
    {"seeds:001 32x128x128x32->64 3x3", "n=32,h=128,w=128,ci=32,co=64,k=3x3"},
    {"seeds:002 6x5x5x5->5 3x2 s2x1", "n=6,h=5,w=5,ci=5,co=5,k=3x2,s=2x1"},
};

// torchvision ResNet-50 (v1.5: stride 2 on the 3x3 convolutions): its 23
// distinct convolution shapes.
const std::vector<SuiteShape> kResnet50 = {
    {"resnet50:conv1", "n=1,h=224,w=224,ci=3,co=64,k=7x7,s=2,p=3,bias=1"},
    {"resnet50:layer1.0.conv1", "n=1,h=56,w=56,ci=64,co=64,k=1x1,bias=1"},
    {"resnet50:layer1.0.conv2", "n=1,h=56,w=56,ci=64,co=64,k=3x3,p=1,bias=1"},
    {"resnet50:layer1.0.conv3", "n=1,h=56,w=56,ci=64,co=256,k=1x1,bias=1"},
    {"resnet50:layer1.1.conv1", "n=1,h=56,w=56,ci=256,co=64,k=1x1,bias=1"},
    {"resnet50:layer2.0.conv1", "n=1,h=56,w=56,ci=256,co=128,k=1x1,bias=1"},
    {"resnet50:layer2.0.conv2", "n=1,h=56,w=56,ci=128,co=128,k=3x3,s=2,p=1,bias=1"},
    {"resnet50:layer2.0.conv3", "n=1,h=28,w=28,ci=128,co=512,k=1x1,bias=1"},
    {"resnet50:layer2.0.downsample", "n=1,h=56,w=56,ci=256,co=512,k=1x1,s=2,bias=1"},
    {"resnet50:layer2.1.conv1", "n=1,h=28,w=28,ci=512,co=128,k=1x1,bias=1"},
    {"resnet50:layer2.1.conv2", "n=1,h=28,w=28,ci=128,co=128,k=3x3,p=1,bias=1"},
    {"resnet50:layer3.0.conv1", "n=1,h=28,w=28,ci=512,co=256,k=1x1,bias=1"},
    {"resnet50:layer3.0.conv2", "n=1,h=28,w=28,ci=256,co=256,k=3x3,s=2,p=1,bias=1"},
    {"resnet50:layer3.0.conv3", "n=1,h=14,w=14,ci=256,co=1024,k=1x1,bias=1"},
    {"resnet50:layer3.0.downsample", "n=1,h=28,w=28,ci=512,co=1024,k=1x1,s=2,bias=1"},
    {"resnet50:layer3.1.conv1", "n=1,h=14,w=14,ci=1024,co=256,k=1x1,bias=1"},
    {"resnet50:layer3.1.conv2", "n=1,h=14,w=14,ci=256,co=256,k=3x3,p=1,bias=1"},
    {"resnet50:layer4.0.conv1", "n=1,h=14,w=14,ci=1024,co=512,k=1x1,bias=1"},
    {"resnet50:layer4.0.conv2", "n=1,h=14,w=14,ci=512,co=512,k=3x3,s=2,p=1,bias=1"},
    {"resnet50:layer4.0.conv3", "n=1,h=7,w=7,ci=512,co=2048,k=1x1,bias=1"},
    {"resnet50:layer4.0.downsample", "n=1,h=14,w=14,ci=1024,co=2048,k=1x1,s=2,bias=1"},
    {"resnet50:layer4.1.conv1", "n=1,h=7,w=7,ci=2048,co=512,k=1x1,bias=1"},
    {"resnet50:layer4.1.conv2", "n=1,h=7,w=7,ci=512,co=512,k=3x3,p=1,bias=1"},
};

// VGG-16: its 9 distinct convolution shapes.
const std::vector<SuiteShape> kVgg16 = {
    {"vgg16:conv1_1", "n=1,h=224,w=224,ci=3,co=64,k=3x3,p=1,bias=1"},
    {"vgg16:conv1_2", "n=1,h=224,w=224,ci=64,co=64,k=3x3,p=1,bias=1"},
    {"vgg16:conv2_1", "n=1,h=112,w=112,ci=64,co=128,k=3x3,p=1,bias=1"},
    {"vgg16:conv2_2", "n=1,h=112,w=112,ci=128,co=128,k=3x3,p=1,bias=1"},
    {"vgg16:conv3_1", "n=1,h=56,w=56,ci=128,co=256,k=3x3,p=1,bias=1"},
    {"vgg16:conv3_2", "n=1,h=56,w=56,ci=256,co=256,k=3x3,p=1,bias=1"},
    {"vgg16:conv4_1", "n=1,h=28,w=28,ci=256,co=512,k=3x3,p=1,bias=1"},
    {"vgg16:conv4_2", "n=1,h=28,w=28,ci=512,co=512,k=3x3,p=1,bias=1"},
    {"vgg16:conv5_1", "n=1,h=14,w=14,ci=512,co=512,k=3x3,p=1,bias=1"},
};

// MobileNetV2 (torchvision, width 1.0): its 30 distinct convolution shapes,
// depthwise (dw), expansion (exp) and projection (proj) included.
const std::vector<SuiteShape> kMobilenetV2 = {
    {"mobilenetv2:conv0", "n=1,h=224,w=224,ci=3,co=32,k=3x3,s=2,p=1,bias=1"},
    {"mobilenetv2:b1.dw", "n=1,h=112,w=112,ci=32,co=32,k=3x3,p=1,g=32,bias=1"},
    {"mobilenetv2:b1.proj", "n=1,h=112,w=112,ci=32,co=16,k=1x1,bias=1"},
    {"mobilenetv2:b2.exp", "n=1,h=112,w=112,ci=16,co=96,k=1x1,bias=1"},
    {"mobilenetv2:b2.dw_s2", "n=1,h=112,w=112,ci=96,co=96,k=3x3,s=2,p=1,g=96,bias=1"},
    {"mobilenetv2:b2.proj", "n=1,h=56,w=56,ci=96,co=24,k=1x1,bias=1"},
    {"mobilenetv2:b3.exp", "n=1,h=56,w=56,ci=24,co=144,k=1x1,bias=1"},
    {"mobilenetv2:b3.dw", "n=1,h=56,w=56,ci=144,co=144,k=3x3,p=1,g=144,bias=1"},
    {"mobilenetv2:b3.proj", "n=1,h=56,w=56,ci=144,co=24,k=1x1,bias=1"},
    {"mobilenetv2:b4.dw_s2", "n=1,h=56,w=56,ci=144,co=144,k=3x3,s=2,p=1,g=144,bias=1"},
    {"mobilenetv2:b4.proj", "n=1,h=28,w=28,ci=144,co=32,k=1x1,bias=1"},
    {"mobilenetv2:b5.exp", "n=1,h=28,w=28,ci=32,co=192,k=1x1,bias=1"},
    {"mobilenetv2:b5.dw", "n=1,h=28,w=28,ci=192,co=192,k=3x3,p=1,g=192,bias=1"},
    {"mobilenetv2:b5.proj", "n=1,h=28,w=28,ci=192,co=32,k=1x1,bias=1"},
    {"mobilenetv2:b7.dw_s2", "n=1,h=28,w=28,ci=192,co=192,k=3x3,s=2,p=1,g=192,bias=1"},
    {"mobilenetv2:b7.proj", "n=1,h=14,w=14,ci=192,co=64,k=1x1,bias=1"},
    {"mobilenetv2:b8.exp", "n=1,h=14,w=14,ci=64,co=384,k=1x1,bias=1"},
    {"mobilenetv2:b8.dw", "n=1,h=14,w=14,ci=384,co=384,k=3x3,p=1,g=384,bias=1"},
    {"mobilenetv2:b8.proj", "n=1,h=14,w=14,ci=384,co=64,k=1x1,bias=1"},
    {"mobilenetv2:b11.proj", "n=1,h=14,w=14,ci=384,co=96,k=1x1,bias=1"},
    {"mobilenetv2:b12.exp", "n=1,h=14,w=14,ci=96,co=576,k=1x1,bias=1"},
    {"mobilenetv2:b12.dw", "n=1,h=14,w=14,ci=576,co=576,k=3x3,p=1,g=576,bias=1"},
    {"mobilenetv2:b12.proj", "n=1,h=14,w=14,ci=576,co=96,k=1x1,bias=1"},
    {"mobilenetv2:b14.dw_s2", "n=1,h=14,w=14,ci=576,co=576,k=3x3,s=2,p=1,g=576,bias=1"},
    {"mobilenetv2:b14.proj", "n=1,h=7,w=7,ci=576,co=160,k=1x1,bias=1"},
    {"mobilenetv2:b15.exp", "n=1,h=7,w=7,ci=160,co=960,k=1x1,bias=1"},
    {"mobilenetv2:b15.dw", "n=1,h=7,w=7,ci=960,co=960,k=3x3,p=1,g=960,bias=1"},
    {"mobilenetv2:b15.proj", "n=1,h=7,w=7,ci=960,co=160,k=1x1,bias=1"},
    {"mobilenetv2:b17.proj", "n=1,h=7,w=7,ci=960,co=320,k=1x1,bias=1"},
    {"mobilenetv2:conv_last", "n=1,h=7,w=7,ci=320,co=1280,k=1x1,bias=1"},
};

// The default: one of each kind, finishing in well under a minute on two
// cores with every comparator and the naive loop.
const std::vector<SuiteShape> kQuick = {
    {"seeds:003 10x32x32x8->16 3x3", "n=10,h=32,w=32,ci=8,co=16,k=3x3"},
    {"resnet50:conv1", "n=1,h=224,w=224,ci=3,co=64,k=7x7,s=2,p=3,bias=1"},
    {"resnet50:layer1.0.conv2", "n=1,h=56,w=56,ci=64,co=64,k=3x3,p=1,bias=1"},
    {"resnet50:layer1.1.conv1", "n=1,h=56,w=56,ci=256,co=64,k=1x1,bias=1"},
    {"resnet50:layer3.1.conv2", "n=1,h=14,w=14,ci=256,co=256,k=3x3,p=1,bias=1"},
    {"resnet50:layer4.0.conv2", "n=1,h=14,w=14,ci=512,co=512,k=3x3,s=2,p=1,bias=1"},
    {"vgg16:conv3_2", "n=1,h=56,w=56,ci=256,co=256,k=3x3,p=1,bias=1"},
    {"mobilenetv2:b3.exp", "n=1,h=56,w=56,ci=24,co=144,k=1x1,bias=1"},
    {"mobilenetv2:b3.dw", "n=1,h=56,w=56,ci=144,co=144,k=3x3,p=1,g=144,bias=1"},
    {"mobilenetv2:b4.dw_s2", "n=1,h=56,w=56,ci=144,co=144,k=3x3,s=2,p=1,g=144,bias=1"},
};

}  // namespace

std::vector<std::string> SuiteNames() {
  return {"quick", "seeds", "resnet50", "vgg16", "mobilenetv2", "all"};
}

bool GetSuite(const std::string& name, Suite* suite) {
  suite->name = name;
  if (name == "quick") {
    suite->shapes = kQuick;
  } else if (name == "seeds") {
    suite->shapes = kSeeds;
  } else if (name == "resnet50") {
    suite->shapes = kResnet50;
  } else if (name == "vgg16") {
    suite->shapes = kVgg16;
  } else if (name == "mobilenetv2") {
    suite->shapes = kMobilenetV2;
  } else if (name == "all") {
    suite->shapes.clear();
    for (const auto* s : {&kSeeds, &kResnet50, &kVgg16, &kMobilenetV2}) {
      suite->shapes.insert(suite->shapes.end(), s->begin(), s->end());
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace perf
}  // namespace convkit

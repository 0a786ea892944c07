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

// A 60-layer sample of oneDNN's benchdnn topologies (ResNet-50, MobileNet,
// SSD, GoogLeNet, VGG-11, AlexNet, YOLOv2, Xception, EfficientDet, U-Net,
// DenseNet, DeepBench, Faster/Mask R-CNN, ResNeXt-101; batch 1): of the 516
// distinct shapes of tests/data/corpus/benchdnn-topologies.spec, in file
// order, the ones at index floor(i * 516 / 60), i = 0..59. Nobody here chose
// them for convkit.
const std::vector<SuiteShape> kTopologies = {
    {"topologies:resnet_50:conv1", "n=1,h=224,w=224,ci=3,co=64,k=7x7,s=2x2,p=3:2:3:2,d=1x1,g=1"},
    {"topologies:resnet_50:res3a_branch2c*4", "n=1,h=28,w=28,ci=128,co=512,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:resnet_50:res5a_branch2b*3", "n=1,h=7,w=7,ci=512,co=512,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:resnet_50_v1_5:res5a_branch2b", "n=1,h=14,w=14,ci=512,co=512,k=3x3,s=2x2,p=1:0:1:0,d=1x1,g=1"},
    {"topologies:mobilenet:conv9*4", "n=1,h=7,w=7,ci=512,co=1024,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:mobilenet:conv5_1/dw", "n=1,h=14,w=14,ci=512,co=512,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=512"},
    {"topologies:mb8_g1ic128oc128_ih75oh75kh1sh1dh0ph0_iw75ow75kw1sw1dw0pw0", "n=1,h=75,w=75,ci=128,co=128,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:mb8_g512ic512oc512_ih19oh10kh3sh2dh0ph1_iw19ow10kw3sw2dw0pw1", "n=1,h=19,w=19,ci=512,co=512,k=3x3,s=2x2,p=1:1:1:1,d=1x1,g=512"},
    {"topologies:mb8_g1ic256oc128_ih3oh3kh1sh1dh0ph0_iw3ow3kw1sw1dw0pw0", "n=1,h=3,w=3,ci=256,co=128,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:mb8_g1ic512oc126_ih5oh5kh1sh1dh0ph0_iw5ow5kw1sw1dw0pw0", "n=1,h=5,w=5,ci=512,co=126,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_3a/3x3_reduce", "n=1,h=28,w=28,ci=192,co=96,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_3b/5x5", "n=1,h=28,w=28,ci=32,co=96,k=5x5,s=1x1,p=2:2:2:2,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_4b/1x1", "n=1,h=14,w=14,ci=512,co=160,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_4d/3x3_reduce", "n=1,h=14,w=14,ci=512,co=144,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_4e/5x5", "n=1,h=14,w=14,ci=32,co=128,k=5x5,s=1x1,p=2:2:2:2,d=1x1,g=1"},
    {"topologies:googlenet_v1:inception_5b/3x3_reduce", "n=1,h=7,w=7,ci=832,co=192,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v3:conv_4_4_conv2d", "n=1,h=73,w=73,ci=80,co=192,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v3:mixed_2_conv_conv2d*4", "n=1,h=35,w=35,ci=288,co=64,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v3:mixed_4_tower_1_conv_1_conv2d*2", "n=1,h=17,w=17,ci=128,co=128,k=7x1,s=1x1,p=3:3:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v3:mixed_8_tower_conv_1_conv2d", "n=1,h=17,w=17,ci=192,co=320,k=3x3,s=2x2,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:googlenet_v3:mixed_10_conv_conv2d", "n=1,h=8,w=8,ci=2048,co=320,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:vgg_11:conv3_1", "n=1,h=25,w=25,ci=128,co=96,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:alexnet:conv5", "n=1,h=13,w=13,ci=384,co=256,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=2"},
    {"topologies:yolov2:conv8*18", "n=1,h=38,w=38,ci=512,co=256,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:xception:xception1_conv1_2", "n=1,h=147,w=147,ci=64,co=128,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:xception:xception3_conv2_1", "n=1,h=37,w=37,ci=728,co=728,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=728"},
    {"topologies:efficientdet:conv1", "n=1,h=512,w=512,ci=3,co=32,k=3x3,s=2x2,p=0:1:0:1,d=1x1,g=1"},
    {"topologies:efficientdet:conv10", "n=1,h=128,w=128,ci=96,co=24,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:efficientdet:conv18*2", "n=1,h=64,w=64,ci=40,co=240,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:efficientdet:conv27*3", "n=1,h=1,w=1,ci=480,co=20,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:efficientdet:conv36*2", "n=1,h=32,w=32,ci=672,co=112,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:efficientdet:conv44", "n=1,h=16,w=16,ci=1152,co=1152,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1152"},
    {"topologies:efficientdet:conv53*12", "n=1,h=32,w=32,ci=64,co=64,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:efficientdet:conv61", "n=1,h=32,w=32,ci=64,co=810,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:unet:conv2", "n=1,h=570,w=570,ci=16,co=16,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:unet:conv11", "n=1,h=536,w=536,ci=32,co=16,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:densenet:conv6", "n=1,h=32,w=32,ci=76,co=12,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:densenet:conv15", "n=1,h=16,w=16,ci=184,co=12,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:densenet:conv23", "n=1,h=16,w=16,ci=280,co=12,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:densenet:conv32", "n=1,h=8,w=8,ci=388,co=12,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:mb1_ic16ih24iw240_oc32_kh3kw3_sh1sw1_ph1pw1", "n=1,h=24,w=240,ci=16,co=32,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:mb1_ic64ih112iw112_oc128_kh3kw3_sh1sw1_ph1pw1", "n=1,h=112,w=112,ci=64,co=128,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:mb1_ic128ih28iw28_oc512_kh1kw1_sh2sw2_ph0pw0", "n=1,h=28,w=28,ci=128,co=512,k=1x1,s=2x2,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:mb1_ic128ih40iw175_oc128_kh3kw3_sh1sw1_ph1pw1", "n=1,h=40,w=175,ci=128,co=128,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:cosmictagger:4*15", "n=1,h=640,w=1024,ci=1,co=16,k=7x7,s=1x1,p=3:3:3:3,d=1x1,g=1"},
    {"topologies:cosmictagger:13*21", "n=1,h=80,w=128,ci=48,co=64,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:cosmictagger:21*21", "n=1,h=40,w=64,ci=96,co=80,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:fastrcnn_p1:conv8", "n=1,h=75,w=94,ci=256,co=128,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:fastrcnn_p1:conv16*6", "n=1,h=38,w=47,ci=256,co=256,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:masknet_p1:conv3", "n=1,h=256,w=256,ci=64,co=64,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:masknet_p1:conv12", "n=1,h=128,w=128,ci=512,co=256,k=1x1,s=2x2,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:masknet_p1:conv20*3", "n=1,h=32,w=32,ci=512,co=512,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:masknet_p1:conv29", "n=1,h=16,w=16,ci=512,co=6,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:masknet_p1:conv37", "n=1,h=128,w=128,ci=512,co=12,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:resnext_101:conv7*1", "n=1,h=56,w=56,ci=256,co=1024,k=1x1,s=1x1,p=0:0:0:0,d=1x1,g=1"},
    {"topologies:resnext_101:conv18*22", "n=1,h=14,w=14,ci=2048,co=2048,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=32"},
    {"topologies:ssd_resnet34_inference:conv3", "n=1,h=300,w=300,ci=64,co=128,k=3x3,s=2x2,p=1:0:1:0,d=1x1,g=1"},
    {"topologies:ssd_resnet34_inference:conv12", "n=1,h=75,w=75,ci=256,co=512,k=3x3,s=2x2,p=1:1:1:1,d=1x1,g=1"},
    {"topologies:ssd_resnet34_inference:conv20", "n=1,h=150,w=150,ci=256,co=324,k=3x3,s=3x3,p=1:0:1:0,d=1x1,g=1"},
    {"topologies:ssd_resnet34_inference:conv29", "n=1,h=7,w=7,ci=256,co=16,k=3x3,s=3x3,p=1:1:1:1,d=1x1,g=1"},
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
  return {"quick", "seeds", "resnet50", "vgg16", "mobilenetv2", "topologies", "all"};
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
  } else if (name == "topologies") {
    suite->shapes = kTopologies;
  } else if (name == "all") {
    suite->shapes.clear();
    for (const auto* s : {&kSeeds, &kResnet50, &kVgg16, &kMobilenetV2, &kTopologies}) {
      suite->shapes.insert(suite->shapes.end(), s->begin(), s->end());
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace perf
}  // namespace convkit

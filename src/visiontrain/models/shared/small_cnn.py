"""A small CNN for tiny images (digits, 32-64 px shapes): fast on CPU, a backbone like any other."""

from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    """Three conv blocks and global pooling; ``num_features`` outputs per image."""

    def __init__(self, width: int = 32, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(in_channels, width), _block(width, 2 * width), _block(2 * width, 4 * width))
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.num_features = 4 * width

    def forward(self, x):
        return self.pool(self.features(x))

"""Torch building blocks shared by the models; no scikit-learn inside."""

from ._attention_pooling import AttentionPooling
from ._behavior import AUGRU, ActivationUnitAttention, BehaviorTransformer
from ._bilinear import BilinearInteraction
from ._cin import CompressedInteraction
from ._conv import KMaxPooling, RowWiseConvolution
from ._cross import CrossLayer, CrossNetwork, LowRankMixtureCrossLayer, MatrixCrossLayer
from ._dice import Dice
from ._embedding import FieldEmbedding, LinearLogit
from ._experts import MixtureOfExperts, TaskTowers
from ._extraction import CustomizedGateControl
from ._fusion import MultiHeadBilinearFusion
from ._gating import FeatureGate
from ._generalized_interaction import GeneralizedInteraction, GeneralizedInteractionNet
from ._information_transfer import AdaptiveInformationTransfer, BehavioralExpectationCalibrator
from ._interaction import BiInteractionPooling, FactorizationMachine
from ._logarithmic import LogarithmicTransformation
from ._mask_block import InstanceGuidedMask, MaskBlock
from ._mlp import MLP
from ._multilevel_experts import MultiLevelMixtureOfExperts
from ._pairs import PairwiseProduct, field_pairs, pair_products
from ._projection import projected_linear, projecting
from ._self_attention import MultiHeadSelfAttention
from ._senet import SqueezeExcitation

__all__ = [
    "AUGRU",
    "ActivationUnitAttention",
    "AdaptiveInformationTransfer",
    "AttentionPooling",
    "BehavioralExpectationCalibrator",
    "BehaviorTransformer",
    "BiInteractionPooling",
    "BilinearInteraction",
    "CompressedInteraction",
    "CrossLayer",
    "CrossNetwork",
    "CustomizedGateControl",
    "Dice",
    "FactorizationMachine",
    "FeatureGate",
    "FieldEmbedding",
    "GeneralizedInteraction",
    "GeneralizedInteractionNet",
    "InstanceGuidedMask",
    "KMaxPooling",
    "LinearLogit",
    "LogarithmicTransformation",
    "LowRankMixtureCrossLayer",
    "MLP",
    "MaskBlock",
    "MatrixCrossLayer",
    "MixtureOfExperts",
    "MultiHeadBilinearFusion",
    "MultiHeadSelfAttention",
    "MultiLevelMixtureOfExperts",
    "PairwiseProduct",
    "RowWiseConvolution",
    "SqueezeExcitation",
    "TaskTowers",
    "field_pairs",
    "pair_products",
    "projected_linear",
    "projecting",
]

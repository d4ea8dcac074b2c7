"""ImageNet class names shipped with the package."""

import pytest

from samplevis.zoo.labels import imagenet_labels, label_index


def test_there_are_1000_labels_as_a_tuple_of_strings():
    labels = imagenet_labels()
    assert isinstance(labels, tuple)
    assert len(labels) == 1000
    assert all(isinstance(name, str) and name and name == name.strip() for name in labels)


@pytest.mark.parametrize(
    "index, name",
    [
        (0, "tench"),
        (1, "goldfish"),
        (8, "hen"),
        (281, "tabby"),
        (282, "tiger_cat"),
        (285, "Egyptian_cat"),
        (657, "missile"),
        (872, "tripod"),
        (967, "espresso"),
        (968, "cup"),
        (999, "toilet_tissue"),
    ],
)
def test_labels_follow_the_standard_ilsvrc2012_class_index(index, name):
    assert imagenet_labels()[index] == name


def test_label_index_inverts_the_label_list_for_every_unique_name():
    labels = imagenet_labels()
    unique = [name for name in labels if labels.count(name) == 1]
    assert len(unique) == 996  # 'crane' and 'maillot' occur twice each
    assert all(labels[label_index(name)] == name for name in unique)


def test_label_index_ignores_case_and_accepts_spaces_for_underscores():
    assert label_index("TABBY") == 281
    assert label_index("tiger cat") == 282
    assert label_index("  Espresso ") == 967


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"'tabbby' is not an ImageNet class name.*'tabby'"):
        label_index("tabbby")


def test_names_differing_only_by_case_are_told_apart_by_exact_spelling():
    assert label_index("Cardigan") == 264  # the corgi
    assert label_index("cardigan") == 474  # the sweater
    with pytest.raises(ValueError, match=r"\[264, 474\]"):
        label_index("CARDIGAN")


def test_name_of_two_classes_asks_for_an_index():
    with pytest.raises(ValueError, match=r"\[134, 517\].*pass the class index"):
        label_index("crane")


def test_non_string_name_is_a_type_error():
    with pytest.raises(TypeError, match="expected a class name string"):
        label_index(281)

extension NDArray {
    /// Axes reordered: result axis i is input axis `permutation[i]`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func permuted(_ permutation: [Int]) -> NDArray {
        require(permutation.sorted() == Array(0..<rank),
                     "permutation \(permutation) is not a permutation of the axes of shape \(shape)")
        let inStrides = Shape.strides(shape)
        return gathered(shape: permutation.map { shape[$0] }, sourceStrides: permutation.map { inStrides[$0] })
    }

    /// A contiguous array of `shape` whose element at index i reads this array
    /// at offset Σ iₖ·sourceStrides[k] (a permutation, a broadcast, or both).
    @inline(__always)
    func gathered(shape outShape: [Int], sourceStrides si: [Int]) -> NDArray {
        let (rows, strides) = Shape.coalesced(outShape, [si, Shape.strides(outShape)])
        let n = rows.last!
        let step = strides[0].last!
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { ab in
            out.withUnsafeMutableBufferPointer { ob in
                guard let (a, o) = sharedPointers(ab, ob) else { return }
                parallelForEachRow(shape: rows, strides: strides) { off in
                    let (p, q) = (a.base + off[0], o.base + off[1])
                    switch step {
                    case 0: q.update(repeating: p[0], count: n)
                    case 1: q.update(from: p, count: n)
                    default: for j in 0..<n { q[j] = p[j * step] }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Arrays joined along `axis`; all other dimensions must agree.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func concatenate(_ parts: [NDArray], axis: Int) -> NDArray {
        require(!parts.isEmpty, "concatenate needs at least one array")
        let rank = parts[0].rank
        let ax = Shape.axis(axis, rank: rank)
        for p in parts {
            require(p.rank == rank && (0..<rank).allSatisfy { $0 == ax || p.shape[$0] == parts[0].shape[$0] },
                         "cannot concatenate shapes \(parts.map(\.shape)) along axis \(ax)")
        }
        var outShape = parts[0].shape
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let outer = Shape.count(Array(outShape[..<ax]))
        let inner = Shape.count(Array(outShape[(ax + 1)...]))
        let outRow = outShape[ax] * inner
        var out = [S](overwrittenCount: Shape.count(outShape))
        out.withUnsafeMutableBufferPointer { o in
            var start = 0
            for p in parts {
                let row = p.shape[ax] * inner
                p.data.withUnsafeBufferPointer { src in
                    for i in 0..<outer {
                        for j in 0..<row { o[i * outRow + start + j] = src[i * row + j] }
                    }
                }
                start += row
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Pieces of sizes `sizes` (summing to the axis length) along `axis`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func split(axis: Int, sizes: [Int]) -> [NDArray] {
        let ax = Shape.axis(axis, rank: rank)
        require(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[ax],
                     "split sizes \(sizes) do not add up to axis \(ax) of shape \(shape)")
        let outer = Shape.count(Array(shape[..<ax]))
        let inner = Shape.count(Array(shape[(ax + 1)...]))
        let inRow = shape[ax] * inner
        var start = 0
        return data.withUnsafeBufferPointer { src in
            sizes.map { size in
                var pieceShape = shape
                pieceShape[ax] = size
                let row = size * inner
                var out = [S](overwrittenCount: outer * row)
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<outer {
                        for j in 0..<row { o[i * row + j] = src[i * inRow + start + j] }
                    }
                }
                start += row
                return NDArray(shape: pieceShape, data: out)
            }
        }
    }

    /// Zero padding: `padding[i] = (before, after)` for axis i.
    public func padded(_ padding: [(before: Int, after: Int)]) -> NDArray {
        require(padding.count == rank, "padding \(padding) does not match rank of shape \(shape)")
        var result = self
        for (axis, p) in padding.enumerated() where p.before > 0 || p.after > 0 {
            var zeroShape = result.shape
            zeroShape[axis] = p.before
            var parts = [NDArray(zeros: zeroShape), result]
            zeroShape[axis] = p.after
            parts.append(NDArray(zeros: zeroShape))
            result = .concatenate(parts, axis: axis)
        }
        return result
    }

    /// Reflection padding of the last two axes by `amount` (the edge row is not
    /// repeated: [a b c] padded by 1 is [b a b c b]). [..., H, W] → [..., H+2a, W+2a].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func reflectionPadded(_ amount: Int) -> NDArray {
        let (h, w) = reflectionPadSides(unpadded: shape, amount)
        if amount == 0 { return self }
        let (ph, pw) = (h + 2 * amount, w + 2 * amount)
        let columns = (0..<pw).map { reflectedIndex($0, amount, w) }
        var outShape = shape
        outShape[rank - 2] = ph
        outShape[rank - 1] = pw
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { sb in
            out.withUnsafeMutableBufferPointer { db in
                guard let (src, dst) = sharedPointers(sb, db) else { return }
                parallelRanges(count / (h * w), itemSize: ph * pw) { planes in
                    for plane in planes {
                        for y in 0..<ph {
                            let s = UnsafePointer(src.base) + (plane * h + reflectedIndex(y, amount, h)) * w
                            let d = dst.base + (plane * ph + y) * pw
                            for x in 0..<amount { d[x] = s[columns[x]] }
                            (d + amount).update(from: s, count: w)
                            for x in (amount + w)..<pw { d[x] = s[columns[x]] }
                        }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Adjoint of `reflectionPadded(amount)`: each element of this padded
    /// array [..., H+2a, W+2a] added to the element it was copied from → [..., H, W].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func reflectionPadAdjoint(_ amount: Int) -> NDArray {
        require(amount >= 0 && rank >= 2, "reflection padding adjoint \(amount) of shape \(shape)")
        if amount == 0 { return self }
        var outShape = shape
        outShape[rank - 2] -= 2 * amount
        outShape[rank - 1] -= 2 * amount
        let (h, w) = reflectionPadSides(unpadded: outShape, amount)
        let (ph, pw) = (shape[rank - 2], shape[rank - 1])
        let columns = (0..<pw).map { reflectedIndex($0, amount, w) }
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { sb in
            out.withUnsafeMutableBufferPointer { db in
                guard let (src, dst) = sharedPointers(sb, db) else { return }
                parallelRanges(count / (ph * pw), itemSize: ph * pw) { planes in
                    (dst.base + planes.lowerBound * h * w).update(repeating: 0, count: planes.count * h * w)
                    for plane in planes {
                        for y in 0..<ph {
                            let s = UnsafePointer(src.base) + (plane * ph + y) * pw
                            let d = dst.base + (plane * h + reflectedIndex(y, amount, h)) * w
                            for x in 0..<amount { d[columns[x]] += s[x] }
                            for x in 0..<w { d[x] += s[amount + x] }
                            for x in (amount + w)..<pw { d[columns[x]] += s[x] }
                        }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }
}

/// (H, W) of an unpadded shape [..., H, W], checked for reflection padding by `amount`.
private func reflectionPadSides(unpadded shape: [Int], _ amount: Int) -> (Int, Int) {
    require(amount >= 0 && shape.count >= 2, "reflection padding \(amount) of shape \(shape)")
    let (h, w) = (shape[shape.count - 2], shape[shape.count - 1])
    require(amount < h && amount < w, "reflection padding \(amount) needs sides > \(amount), shape \(shape)")
    return (h, w)
}

/// The source index along an axis of `length` of position `p` of the axis padded by `amount`.
@inline(__always)
private func reflectedIndex(_ p: Int, _ amount: Int, _ length: Int) -> Int {
    let i = p - amount
    return i < 0 ? -i : (i >= length ? 2 * (length - 1) - i : i)
}

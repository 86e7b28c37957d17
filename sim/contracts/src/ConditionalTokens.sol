// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Transfer {
    function transfer(address to, uint256 value) external returns (bool);
}

/// @title Stand-in for Gnosis ConditionalTokens (the ERC-1155 ledger of outcome tokens).
/// @notice Same external ABI, events, revert strings and id math as the contract Polymarket uses
///         on Polygon: conditionId = keccak(oracle, questionId, outcomeSlotCount), collection ids
///         are alt_bn128 points, positionId = keccak(collateralToken, collectionId). So an id
///         computed with the wrong collateral (pUSD instead of USDC.e) is held by nobody and
///         `redeemPositions` with it succeeds and pays nothing, exactly as on Polygon.
/// @dev No constructor: the simulator writes the runtime bytecode and slots into genesis. The
///      sim-only functions (prepareConditions, reportPayoutsFor, mintBatch, grantApprovals,
///      settle) are restricted to the simulator's operator and exchanges; they stand in for
///      prepareCondition by the UMA adapter, reportPayouts by the oracle and the exchange's
///      token transfers at settlement. Transfers to contracts skip the ERC-1155 receiver hook.
contract ConditionalTokens {
    mapping(uint256 => mapping(address => uint256)) private _balances; // slot 0
    mapping(address => mapping(address => bool)) public isApprovedForAll; // slot 1
    mapping(bytes32 => uint256[]) public payoutNumerators; // slot 2
    mapping(bytes32 => uint256) public payoutDenominator; // slot 3
    mapping(address => bool) public isOperator; // slot 4
    mapping(address => bool) public isExchange; // slot 5

    event TransferSingle(address indexed operator, address indexed from, address indexed to,
        uint256 id, uint256 value);
    event TransferBatch(address indexed operator, address indexed from, address indexed to,
        uint256[] ids, uint256[] values);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);
    event ConditionPreparation(bytes32 indexed conditionId, address indexed oracle,
        bytes32 indexed questionId, uint256 outcomeSlotCount);
    event ConditionResolution(bytes32 indexed conditionId, address indexed oracle,
        bytes32 indexed questionId, uint256 outcomeSlotCount, uint256[] payoutNumerators);
    event PayoutRedemption(address indexed redeemer, address indexed collateralToken,
        bytes32 indexed parentCollectionId, bytes32 conditionId, uint256[] indexSets, uint256 payout);

    error NotOperator();
    error NotExchange();
    error BadMoves();

    uint256 private constant P =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 private constant B = 3;
    // (P + 1) / 4: P = 3 mod 4, so a^((P+1)/4) is a square root of a quadratic residue a
    uint256 private constant SQRT_EXP =
        5472060717959818805561601436314318772174077789324455915672259473661306552146;

    // --- ERC-1155 ---------------------------------------------------------------------------------

    function balanceOf(address owner, uint256 id) external view returns (uint256) {
        return _balances[id][owner];
    }

    function balanceOfBatch(address[] calldata owners, uint256[] calldata ids)
        external view returns (uint256[] memory out)
    {
        require(owners.length == ids.length, "ERC1155: owners and IDs must have same lengths");
        out = new uint256[](owners.length);
        for (uint256 i = 0; i < owners.length; ++i) out[i] = _balances[ids[i]][owners[i]];
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata)
        external
    {
        _checkTransfer(from, to);
        _move(from, to, id, value);
        emit TransferSingle(msg.sender, from, to, id, value);
    }

    function safeBatchTransferFrom(address from, address to, uint256[] calldata ids,
        uint256[] calldata values, bytes calldata) external
    {
        require(ids.length == values.length, "ERC1155: IDs and values must have same lengths");
        _checkTransfer(from, to);
        for (uint256 i = 0; i < ids.length; ++i) _move(from, to, ids[i], values[i]);
        emit TransferBatch(msg.sender, from, to, ids, values);
    }

    // --- conditions -------------------------------------------------------------------------------

    function getOutcomeSlotCount(bytes32 conditionId) external view returns (uint256) {
        return payoutNumerators[conditionId].length;
    }

    function getConditionId(address oracle, bytes32 questionId, uint256 outcomeSlotCount)
        external pure returns (bytes32)
    {
        return keccak256(abi.encodePacked(oracle, questionId, outcomeSlotCount));
    }

    function getCollectionId(bytes32 parentCollectionId, bytes32 conditionId, uint256 indexSet)
        public view returns (bytes32)
    {
        uint256 x1 = uint256(keccak256(abi.encodePacked(conditionId, indexSet)));
        bool odd = x1 >> 255 != 0;
        uint256 y1;
        uint256 yy;
        do {
            x1 = addmod(x1, 1, P);
            yy = addmod(mulmod(x1, mulmod(x1, x1, P), P), B, P);
            y1 = _sqrt(yy);
        } while (mulmod(y1, y1, P) != yy);
        if ((odd && y1 % 2 == 0) || (!odd && y1 % 2 == 1)) y1 = P - y1;

        uint256 x2 = uint256(parentCollectionId);
        if (x2 != 0) {
            odd = x2 >> 254 != 0;
            x2 = (x2 << 2) >> 2;
            yy = addmod(mulmod(x2, mulmod(x2, x2, P), P), B, P);
            uint256 y2 = _sqrt(yy);
            if ((odd && y2 % 2 == 0) || (!odd && y2 % 2 == 1)) y2 = P - y2;
            require(mulmod(y2, y2, P) == yy, "invalid parent collection ID");
            (bool ok, bytes memory ret) = address(6).staticcall(abi.encode(x1, y1, x2, y2));
            require(ok, "ecadd failed");
            (x1, y1) = abi.decode(ret, (uint256, uint256));
        }
        if (y1 % 2 == 1) x1 ^= 1 << 254;
        return bytes32(x1);
    }

    function getPositionId(address collateralToken, bytes32 collectionId)
        public pure returns (uint256)
    {
        return uint256(keccak256(abi.encodePacked(collateralToken, collectionId)));
    }

    /// @notice Gnosis CTF's redemption: burns the caller's tokens of each index set and pays
    ///         `collateralToken`. Tokens nobody holds (a wrong collateral) pay 0 without a revert.
    function redeemPositions(address collateralToken, bytes32 parentCollectionId,
        bytes32 conditionId, uint256[] calldata indexSets) external
    {
        uint256 den = payoutDenominator[conditionId];
        require(den > 0, "result for condition not received yet");
        uint256 outcomeSlotCount = payoutNumerators[conditionId].length;
        require(outcomeSlotCount > 0, "condition not prepared yet");
        uint256 totalPayout = 0;
        uint256 fullIndexSet = (1 << outcomeSlotCount) - 1;
        for (uint256 i = 0; i < indexSets.length; ++i) {
            uint256 indexSet = indexSets[i];
            require(indexSet > 0 && indexSet < fullIndexSet, "got invalid index set");
            uint256 positionId = getPositionId(collateralToken,
                getCollectionId(parentCollectionId, conditionId, indexSet));
            uint256 payoutNumerator = 0;
            for (uint256 j = 0; j < outcomeSlotCount; ++j) {
                if (indexSet & (1 << j) != 0) payoutNumerator += payoutNumerators[conditionId][j];
            }
            uint256 payoutStake = _balances[positionId][msg.sender];
            if (payoutStake > 0) {
                totalPayout += payoutStake * payoutNumerator / den;
                _balances[positionId][msg.sender] = 0;
                emit TransferSingle(msg.sender, msg.sender, address(0), positionId, payoutStake);
            }
        }
        if (totalPayout > 0) {
            require(IERC20Transfer(collateralToken).transfer(msg.sender, totalPayout),
                "could not transfer payout to message sender");
        }
        emit PayoutRedemption(msg.sender, collateralToken, parentCollectionId, conditionId,
            indexSets, totalPayout);
    }

    // --- simulator operator -------------------------------------------------------------------

    /// @notice Conditions of markets created after genesis (those at genesis are written there).
    function prepareConditions(bytes32[] calldata conditionIds, bytes32[] calldata questionIds,
        uint256[] calldata outcomeSlotCounts) external
    {
        if (!isOperator[msg.sender]) revert NotOperator();
        for (uint256 i = 0; i < conditionIds.length; ++i) {
            uint256[] storage numerators = payoutNumerators[conditionIds[i]];
            if (numerators.length != 0) continue;
            for (uint256 j = 0; j < outcomeSlotCounts[i]; ++j) numerators.push(0);
            emit ConditionPreparation(conditionIds[i], msg.sender, questionIds[i],
                outcomeSlotCounts[i]);
        }
    }

    /// @notice What the UMA adapter's `reportPayouts` does, for a condition the simulator made.
    function reportPayoutsFor(bytes32 conditionId, address oracle, bytes32 questionId,
        uint256[] calldata payouts) external
    {
        if (!isOperator[msg.sender]) revert NotOperator();
        uint256 outcomeSlotCount = payouts.length;
        require(outcomeSlotCount > 1, "there should be more than one outcome slot");
        require(payoutNumerators[conditionId].length == outcomeSlotCount,
            "condition not prepared or found");
        require(payoutDenominator[conditionId] == 0, "payout denominator already set");
        uint256 den = 0;
        for (uint256 i = 0; i < outcomeSlotCount; ++i) {
            den += payouts[i];
            payoutNumerators[conditionId][i] = payouts[i];
        }
        require(den > 0, "payout is all zeroes");
        payoutDenominator[conditionId] = den;
        emit ConditionResolution(conditionId, oracle, questionId, outcomeSlotCount, payouts);
    }

    /// @notice Outcome tokens a funded test wallet starts with.
    function mintBatch(address[] calldata to, uint256[] calldata ids, uint256[] calldata values)
        external
    {
        if (!isOperator[msg.sender]) revert NotOperator();
        for (uint256 i = 0; i < to.length; ++i) {
            _balances[ids[i]][to[i]] += values[i];
            emit TransferSingle(msg.sender, address(0), to[i], ids[i], values[i]);
        }
    }

    /// @notice `approvals: true` of the admin API: what the wallet's own setApprovalForAll does.
    function grantApprovals(address owner, address[] calldata operators) external {
        if (!isOperator[msg.sender]) revert NotOperator();
        for (uint256 i = 0; i < operators.length; ++i) {
            isApprovedForAll[owner][operators[i]] = true;
            emit ApprovalForAll(owner, operators[i], true);
        }
    }

    /// @notice Outcome-token side of settled fills, from an exchange.
    /// @param moves packed 96-byte records (account, token id, signed delta as int256).
    /// @dev Like pUSD's settle, a debit beyond the balance takes what is there (the scripted
    ///      market maker sells without holding tokens). Assembly: py-evm interprets each opcode.
    ///      No TransferSingle per move (the real exchange emits them): a log per move costs about
    ///      a third of a busy block here, and the fills are already told by OrderFilled.
    function settle(bytes calldata moves) external {
        if (!isExchange[msg.sender]) revert NotExchange();
        if (moves.length % 96 != 0) revert BadMoves();
        assembly ("memory-safe") {
            let end := add(moves.offset, moves.length)
            for { let p := moves.offset } lt(p, end) { p := add(p, 96) } {
                let account := and(calldataload(p), 0xffffffffffffffffffffffffffffffffffffffff)
                let id := calldataload(add(p, 32))
                let delta := calldataload(add(p, 64))
                mstore(0x00, id)
                mstore(0x20, _balances.slot)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, account)
                let slot := keccak256(0x00, 0x40)
                let have := sload(slot)
                switch slt(delta, 0)
                case 0 { sstore(slot, add(have, delta)) }
                default {
                    let taken := sub(0, delta)
                    if gt(taken, have) { taken := have }
                    sstore(slot, sub(have, taken))
                }
            }
        }
    }

    // --- internal ---------------------------------------------------------------------------------

    function _checkTransfer(address from, address to) private view {
        require(to != address(0), "ERC1155: target address must be non-zero");
        require(from == msg.sender || isApprovedForAll[from][msg.sender],
            "ERC1155: need operator approval for 3rd party transfers.");
    }

    function _move(address from, address to, uint256 id, uint256 value) private {
        uint256 have = _balances[id][from];
        require(have >= value, "SafeMath: subtraction overflow");
        _balances[id][from] = have - value;
        _balances[id][to] += value;
    }

    function _sqrt(uint256 a) private view returns (uint256 y) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), a)
            mstore(add(m, 0x80), SQRT_EXP)
            mstore(add(m, 0xa0), P)
            if iszero(staticcall(gas(), 0x05, m, 0xc0, m, 0x20)) { revert(0, 0) }
            y := mload(m)
        }
    }
}
